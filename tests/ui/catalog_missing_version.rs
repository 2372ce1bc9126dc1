static DATABASES: litemigrate::Databases = litemigrate::embed_databases!("tests/ui/fixtures/catalog_missing_version");

fn main() {
    let _ = DATABASES.databases().len();
}
