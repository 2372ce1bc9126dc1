//! `embed_migrations!` embeds a directory's repeatable migrations: the static set applies them after the versioned
//! ones and records them.

static SET: litemigrate::Migrations = litemigrate::embed_migrations!("tests/fixtures/repeatable");

#[test]
fn the_embedded_set_carries_and_applies_its_repeatables() {
    assert_eq!(SET.repeatables().len(), 1);
    let r = &SET.repeatables()[0];
    assert_eq!(
        (r.name(), r.file()),
        ("views", "tests/fixtures/repeatable/R__views.sql")
    );
    assert_eq!(r.checksum(), litemigrate_core::checksum::checksum(r.sql()));
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    let report = SET.migrate(&mut conn).unwrap();
    assert_eq!(report.repeatables, ["views"]);
    let title: String = conn.query_row("SELECT title FROM titles", [], |r| r.get(0)).unwrap();
    assert_eq!(title, "a");
    let status = SET.status(&conn).unwrap();
    assert!(status.is_up_to_date(), "{status}");
    assert!(SET.migrate(&mut conn).unwrap().repeatables.is_empty());
}
