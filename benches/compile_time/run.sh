#!/usr/bin/env bash
# Compile-time benchmark: rebuild cost of a crate that embeds N reversible migrations (default 2000), measured side
# by side in one run against a plain static table of `include_str!`s of the same files.
#
#   benches/compile_time/run.sh            # N=2000, debug and release, 5 rebuilds each (median reported)
#   N=500 RUNS=1 PROFILES=dev benches/compile_time/run.sh
#   MEASURE=cpu benches/compile_time/run.sh   # CPU seconds instead of wall time (for a machine that is not quiet)
#
# Each variant is a separate crate in one scratch workspace (shared target dir, dependencies built once). What is
# timed is `cargo build` after touching the crate's main.rs: the crate itself recompiles, the macro reruns, the
# dependencies do not. Incremental compilation is off (CARGO_INCREMENTAL=0): a touch that changes nothing would
# otherwise let rustc reuse its type-checking, which a real edit (a new migration) does not. Every variant opens an
# in-memory SQLite in main(), so all link the same libraries, as a real application does. Variants:
#   plain      static [(u64, &str, &str); N] of include_str!(up), include_str!(down)
#   unchecked  embed_migrations!(dir, validate_sql = false)   names, pairs, directives, checksums, chain
#   full       embed_migrations!(dir)                          + every up run in SQLite, schema hashes, down proof
#   cached     full, in a crate with the recommended build.rs (litemigrate::build::track): the macro keeps its result in
#              OUT_DIR and a rebuild with unchanged migrations reuses it (what `full` costs is a cache miss)
set -euo pipefail
export CARGO_INCREMENTAL=0
N=${N:-2000}
RUNS=${RUNS:-5}
PROFILES=${PROFILES:-"dev release"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d)}
echo "scratch workspace: $WORK (N=$N, runs=$RUNS)" >&2

mkdir -p "$WORK/migrations"
python3 - "$WORK/migrations" "$N" <<'PY'
import sys, os
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    up = (f"CREATE TABLE t_{i} (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL,\n    created_at TEXT\n);\n"
          f"CREATE INDEX t_{i}_name ON t_{i}(name);\n")
    open(os.path.join(d, f"{i:05d}_table_{i}.up.sql"), "w").write(up)
    open(os.path.join(d, f"{i:05d}_table_{i}.down.sql"), "w").write(f"DROP TABLE t_{i};\n")
PY

cat > "$WORK/Cargo.toml" <<TOML
[workspace]
members = ["plain", "unchecked", "full", "cached"]
resolver = "3"
[workspace.dependencies]
litemigrate = { path = "$ROOT" }
TOML
cp "$ROOT/Cargo.lock" "$WORK/Cargo.lock"

mk() { mkdir -p "$WORK/$1/src"; printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\n[dependencies]\nlitemigrate = { workspace = true, features = ["bundled"] }\n' "$1" > "$WORK/$1/Cargo.toml"; }
mk plain; mk unchecked; mk full; mk cached
printf '[build-dependencies]\nlitemigrate = { path = "%s", default-features = false }\n' "$ROOT" >> "$WORK/cached/Cargo.toml"
echo 'fn main() { litemigrate::build::track("../migrations"); }' > "$WORK/cached/build.rs"
python3 - "$WORK" "$N" <<'PY'
import sys, os
w, n = sys.argv[1], int(sys.argv[2])
rows = ",\n".join(
    f'    ({i}, include_str!("../../migrations/{i:05d}_table_{i}.up.sql"), include_str!("../../migrations/{i:05d}_table_{i}.down.sql"))'
    for i in range(1, n + 1))
open(os.path.join(w, "plain/src/main.rs"), "w").write(
    f"static TABLE: [(u64, &str, &str); {n}] = [\n{rows}\n];\n"
    "fn main() { litemigrate::rusqlite::Connection::open_in_memory().unwrap(); println!(\"{}\", TABLE.len()); }\n")
for name, extra in (("unchecked", ", validate_sql = false"), ("full", ""), ("cached", "")):
    open(os.path.join(w, name, "src/main.rs"), "w").write(
        f'static M: litemigrate::Migrations = litemigrate::embed_migrations!("../migrations"{extra});\n'
        'fn main() { litemigrate::rusqlite::Connection::open_in_memory().unwrap(); println!("{}", M.len()); }\n')
PY

cd "$WORK"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '| profile | SQLite in the macro | plain include_str! table | ours, validate_sql = false | ratio | ours, full validation | difference | full, cache hit (build.rs) | difference |\n|---|---|---|---|---|---|---|---|---|\n'
# Two configurations: cargo's defaults (proc macros and their dependencies, the macro's SQLite included, build at
# opt-level 0), and the one-line setting README.md recommends for large sets, which optimizes libsqlite3-sys
# wherever it is built (the application's copy and the macro's).
for config in default optimized; do
  if [ "$config" = optimized ]; then
    printf '\n[profile.dev.package.libsqlite3-sys]\nopt-level = 3\n[profile.release.package.libsqlite3-sys]\nopt-level = 3\n' >> Cargo.toml
  fi
  for profile in $PROFILES; do
    cargo build --quiet --offline --profile "$profile" --workspace >&2   # dependencies and a first build
    declare -A samples=()
    # Round robin, so a burst of load on the shared machine hits every variant alike.
    for _ in $(seq "$RUNS"); do
      for v in plain unchecked full cached; do
        touch "$v/src/main.rs"
        if [ "${MEASURE:-wall}" = cpu ]; then
          # CPU seconds (user + system) of cargo and everything it ran: steadier than wall time when other work
          # shares the machine.
          cpu=$( { /usr/bin/time -f '%U %S' cargo build --quiet --offline --profile "$profile" -p "$v" 2>&1 >/dev/null; } | tail -n 1)
          samples[$v]="${samples[$v]:-} $(echo "$cpu" | awk '{print $1 + $2}')"
        else
          s=$(date +%s.%N); cargo build --quiet --offline --profile "$profile" -p "$v" >&2; e=$(date +%s.%N)
          samples[$v]="${samples[$v]:-} $(echo "$e - $s" | bc)"
        fi
      done
    done
    declare -A t=()
    for v in plain unchecked full cached; do t[$v]=$(printf '%s\n' ${samples[$v]} | median); done
    label=$([ "$config" = default ] && echo "opt-level 0 (default)" || echo "opt-level 3 (recommended setting)")
    printf '| %s | %s | %.2f s | %.2f s | %.2f× | %.2f s | +%.2f s | %.2f s | +%.2f s |\n' "$profile" "$label" \
      "${t[plain]}" "${t[unchecked]}" "$(echo "${t[unchecked]} / ${t[plain]}" | bc -l)" \
      "${t[full]}" "$(echo "${t[full]} - ${t[plain]}" | bc -l)" "${t[cached]}" "$(echo "${t[cached]} - ${t[plain]}" | bc -l)"
    # The binary must agree on what it embedded.
    for v in plain unchecked full cached; do
      got=$(cargo run --quiet --offline --profile "$profile" -p "$v"); [ "$got" = "$N" ] || { echo "$v printed $got, expected $N" >&2; exit 1; }
    done
  done
done
