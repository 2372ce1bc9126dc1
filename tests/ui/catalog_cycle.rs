static DATABASES: litemigrate::Databases = litemigrate::embed_databases!("tests/ui/fixtures/catalog_cycle");

fn main() {
    let _ = DATABASES.databases().len();
}
