// Two sets in one file need their own history keys.
static DATABASES: litemigrate::Databases =
    litemigrate::embed_databases!("tests/fixtures/catalog_shared", addon(file = "core.db"));

fn main() {
    let _ = DATABASES.databases().len();
}
