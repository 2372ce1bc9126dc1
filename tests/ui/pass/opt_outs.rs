// SQL that cannot run at build time (an extension) builds with `validate_sql = false`, and a down script that
// does not restore the schema builds with `check_down = false`.
static EXT: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/no_validation", validate_sql = false);
static UNCHECKED: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/unchecked_down", check_down = false, set = "other");

fn main() {
    assert_eq!(EXT.len(), 1);
    assert!(EXT.get(1).unwrap().schema_hash().is_none());
    assert_eq!(UNCHECKED.set_name(), "other");
    assert_eq!(UNCHECKED.get(1).unwrap().down_sql(), Some("SELECT 1;\n"));
}
