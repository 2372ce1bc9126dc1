// A set sharing core's file cannot attach it: core's tables are already in `main`.
static DATABASES: litemigrate::Databases = litemigrate::embed_databases!(
    "tests/ui/fixtures/catalog_shared_attach",
    addon(file = "core.db", set = "addon"),
);

fn main() {
    let _ = DATABASES.databases().len();
}
