//! The lexer's contract on generated input: the tokens are the input, byte for byte, in order, with correct
//! positions; and nothing that reads SQL through it panics, whatever the input. 100,000 cases by default
//! (`PROPTEST_CASES` overrides it).

use litemigrate_core::lex::{TokenKind, tokens};
use litemigrate_core::{split, sql};
use proptest::prelude::*;

/// SQL-shaped input: fragments that open and close every token kind, mixed with arbitrary characters, so
/// unterminated quotes and comments, NUL bytes, multi-byte characters and keywords in odd places all come up.
fn sqlish() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        8 => prop::sample::select(vec![
            "CREATE", " ", "TABLE", "TRIGGER", "BEGIN", "END", "CASE", "WHEN", "THEN", "TEMP", "EXPLAIN", "VIRTUAL",
            "USING", "fts5", ";", ",", "(", ")", ".", "'", "''", "\"", "\"\"", "`", "[", "]", "--", "/*", "*/", "\n",
            "\r\n", "\t", "x'", "X'0f'", "?", "?12", ":a", "@b", "$c", "$", "1", "1.5e+3", "0x1F", ".5", "->>", "||",
            "é", "日本", "\0", "#", "{", "*", "/", "-", "e", "_", "SELECT", "INSERT", "a", "b1",
        ]).prop_map(str::to_owned),
        2 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tokens_reproduce_the_input_and_know_where_they_are(input in sqlish()) {
        let mut rebuilt = String::with_capacity(input.len());
        let (mut line, mut column) = (1usize, 1usize);
        for t in tokens(&input) {
            prop_assert_eq!(t.offset, rebuilt.len());
            prop_assert_eq!((t.line, t.column), (line, column));
            prop_assert!(!t.text.is_empty());
            if !t.terminated {
                prop_assert_eq!(t.offset + t.text.len(), input.len(), "only the last token may be unterminated");
            }
            if t.kind == TokenKind::Nul {
                prop_assert_eq!(t.text, "\0");
            }
            for c in t.text.chars() {
                if c == '\n' { line += 1; column = 1; } else { column += 1; }
            }
            rebuilt.push_str(t.text);
        }
        prop_assert_eq!(&rebuilt, &input);

        // Everything built on the lexer takes the same input without panicking, and statements cover the
        // non-trivia text in order.
        let statements = split::statements(&input);
        let mut last = 0;
        for s in &statements {
            prop_assert!(s.offset >= last);
            prop_assert_eq!(&input[s.offset..s.offset + s.sql.len()], s.sql);
            last = s.offset + s.sql.len();
        }
        prop_assert_eq!(split::has_statements(&input), !statements.is_empty());
        let with_tokens = split::statements_with_tokens(&input);
        prop_assert_eq!(with_tokens.iter().map(|(s, _)| *s).collect::<Vec<_>>(), statements);
        for (s, toks) in &with_tokens {
            for t in toks {
                prop_assert!(t.offset >= s.offset && t.offset + t.text.len() <= s.offset + s.sql.len());
            }
        }
        let _ = sql::ident_tokens(&input);
    }
}
