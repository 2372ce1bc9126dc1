//! A `no-transaction` migration may stop halfway and run again from the top: `nondeterministic-rerun` (random or
//! current-time values written by a data statement differ on the second run) and `rerun-not-idempotent` (a `CREATE`
//! without `IF NOT EXISTS`, a `DROP` without `IF EXISTS`, which fail on the second run).

use super::{Context, Finding};
use crate::lex::{Keyword, TokenKind};

pub(super) fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for s in &ctx.statements {
        let toks = &s.toks;
        let Some(first) = toks.first().and_then(|t| t.keyword()) else {
            continue;
        };
        if matches!(
            first,
            Keyword::Insert | Keyword::Update | Keyword::Delete | Keyword::Replace | Keyword::With
        ) {
            let nondeterministic = toks.iter().enumerate().find_map(|(i, t)| {
                let call = toks.get(i + 1).is_some_and(|n| n.is_op("("));
                if t.kind == TokenKind::Word
                    && call
                    && ["random", "randomblob"].iter().any(|f| t.text.eq_ignore_ascii_case(f))
                {
                    return Some(format!("{}()", t.text));
                }
                if matches!(
                    t.keyword(),
                    Some(Keyword::CurrentTimestamp | Keyword::CurrentDate | Keyword::CurrentTime)
                ) {
                    return Some(t.text.to_owned());
                }
                (t.string_value().is_some_and(|v| v.eq_ignore_ascii_case("now"))).then(|| "'now'".to_owned())
            });
            if let Some(what) = nondeterministic {
                out.push(ctx.finding(
                    "nondeterministic-rerun",
                    s.line,
                    format!(
                        "writes {what} in a `no-transaction` migration, which runs again from the top after a failure: \
                         rows written by the first run get other values than rows written by the second. Compute the \
                         value once (a constant), or move the statement to a transactional migration"
                    ),
                ));
            }
            continue;
        }
        let guarded = |kw: Keyword| toks.iter().take(6).any(|t| t.is_keyword(kw));
        let problem = match first {
            Keyword::Create if !guarded(Keyword::Exists) => Some("CREATE without IF NOT EXISTS"),
            Keyword::Drop if !guarded(Keyword::Exists) => Some("DROP without IF EXISTS"),
            _ => None,
        };
        if let Some(problem) = problem {
            out.push(ctx.finding(
                "rerun-not-idempotent",
                s.line,
                format!(
                    "{problem} in a `no-transaction` migration: after a failure further down, running it again \
                     fails on this statement. Add the guard so the file can run twice"
                ),
            ));
        }
    }
}
