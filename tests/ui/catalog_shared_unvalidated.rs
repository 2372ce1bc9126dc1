// The add-on shares core's file and requires core@2, but reads `tags`, which core only adds in version 3.
static DATABASES: litemigrate::Databases = litemigrate::embed_databases!(
    "tests/ui/fixtures/catalog_shared_unvalidated",
    addon(file = "core.db", set = "addon"),
);

fn main() {
    let _ = DATABASES.databases().len();
}
