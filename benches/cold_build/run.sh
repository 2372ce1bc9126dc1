#!/usr/bin/env bash
# Cold-build benchmark (issue 13, item 3): the first `cargo build` of a hello app that embeds and applies migrations,
# side by side in one run with a crate that depends on rusqlite alone. Both use SQLite from source (`bundled`).
#
#   benches/cold_build/run.sh              # 3 runs of each, interleaved, debug profile
#   RUNS=2 FEATURES=compression benches/cold_build/run.sh   # the hello app with extra facade features
#
# Each build starts from an empty target directory (what a new user's first build, or a CI job without a cache,
# costs); crates are downloaded beforehand (`cargo fetch`) so the network is not timed. One scratch workspace holds
# both crates with the repository's Cargo.lock, so both build the same rusqlite and libsqlite3-sys. Variants:
#   rusqlite  [dependencies] rusqlite (bundled); main() opens a file and creates a table
#   hello     [dependencies] migrate (bundled); static M = embed_migrations!(3 files); main() runs M.migrate()
# Printed: a Markdown table of the wall times (median), their ratio, and the crate counts (third-party crates in the
# normal graph, and every crate cargo compiles, build scripts and proc macros included).
set -euo pipefail
export CARGO_INCREMENTAL=0
RUNS=${RUNS:-3}
FEATURES=${FEATURES:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d)}
echo "scratch workspace: $WORK (runs=$RUNS, extra features: '${FEATURES}')" >&2

rusqlite_req=$(sed -n 's/^rusqlite = { version = "\(.*\)" }.*/\1/p' "$ROOT/Cargo.toml")
cat > "$WORK/Cargo.toml" <<TOML
[workspace]
members = ["rusqlite-only", "hello"]
resolver = "3"
TOML
cp "$ROOT/Cargo.lock" "$WORK/Cargo.lock"
mkdir -p "$WORK/rusqlite-only/src" "$WORK/hello/src"
cat > "$WORK/rusqlite-only/Cargo.toml" <<TOML
[package]
name = "rusqlite-only"
version = "0.0.0"
edition = "2024"
[dependencies]
rusqlite = { version = "$rusqlite_req", features = ["bundled"] }
TOML
cat > "$WORK/rusqlite-only/src/main.rs" <<'RS'
fn main() {
    let conn = rusqlite::Connection::open("hello.db").unwrap();
    conn.execute_batch("CREATE TABLE IF NOT EXISTS todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL)").unwrap();
}
RS
feat='"bundled"'
for f in $FEATURES; do feat="$feat, \"$f\""; done
cat > "$WORK/hello/Cargo.toml" <<TOML
[package]
name = "hello"
version = "0.0.0"
edition = "2024"
[dependencies]
litemigrate = { path = "$ROOT", features = [$feat] }
TOML
rm -rf "$WORK/hello/migrations"
cp -r "$ROOT/examples/todo/migrations" "$WORK/hello/migrations"
cat > "$WORK/hello/src/main.rs" <<'RS'
static M: litemigrate::Migrations = litemigrate::embed_migrations!("migrations");
fn main() {
    let mut conn = litemigrate::rusqlite::Connection::open("hello.db").unwrap();
    println!("{}", M.migrate(&mut conn).unwrap());
}
RS

cd "$WORK"
cargo fetch --quiet
count_third_party() { # normal dependencies, deduplicated, the crate itself and this workspace's crates excluded
  cargo tree --offline -p "$1" -e normal --prefix none | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u \
    | grep -v -e "^$1 " -e "^litemigrate" | wc -l
}
declare -A secs=() cpu=() units=()
for i in $(seq "$RUNS"); do
  # Alternate which goes first, so a burst of load on the shared machine does not always hit the same one.
  if [ $((i % 2)) = 1 ]; then order="rusqlite-only hello"; else order="hello rusqlite-only"; fi
  for v in $order; do
    rm -rf "$WORK/target-$v"
    # Bash's `time` reports the children's CPU too (rustc, the C compiler, build scripts): user + sys is the work
    # the build did, which a loaded machine inflates far less than the wall time.
    TIMEFORMAT='%R %U %S'
    { time CARGO_TARGET_DIR="$WORK/target-$v" cargo build --offline -p "$v" 2>"$WORK/$v.log"; } 2>"$WORK/$v.time"
    read -r wall user sys <"$WORK/$v.time"
    secs[$v]="${secs[$v]:-} $wall"
    cpu[$v]="${cpu[$v]:-} $(echo "$user + $sys" | bc)"
    units[$v]=$(grep -c '^ *Compiling ' "$WORK/$v.log")
    echo "run $i $v: $wall s wall, $(echo "$user + $sys" | bc) s CPU, ${units[$v]} crates compiled" >&2
  done
done
(cd "$WORK/hello" && CARGO_TARGET_DIR="$WORK/target-hello" cargo run --quiet --offline -p hello) >&2

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${secs[rusqlite-only]}" | median)
ours=$(echo "${secs[hello]}" | median)
base_cpu=$(echo "${cpu[rusqlite-only]}" | median)
ours_cpu=$(echo "${cpu[hello]}" | median)
printf '| crate | cold `cargo build`, wall (median of %s) | ratio | CPU, user + sys | CPU ratio | third-party crates (normal graph) | crates compiled |\n|---|---|---|---|---|---|---|\n' "$RUNS"
printf '| rusqlite only (bundled) | %.1f s | 1.00 | %.1f s | 1.00 | %s | %s |\n' "$base" "$base_cpu" "$(count_third_party rusqlite-only)" "${units[rusqlite-only]}"
printf '| hello app: migrate (bundled%s) | %.1f s | %.2f | %.1f s | %.2f | %s | %s |\n' "${FEATURES:+, $FEATURES}" "$ours" \
  "$(echo "$ours / $base" | bc -l)" "$ours_cpu" "$(echo "$ours_cpu / $base_cpu" | bc -l)" "$(count_third_party hello)" "${units[hello]}"
echo "samples (wall): rusqlite-only:${secs[rusqlite-only]}; hello:${secs[hello]}" >&2
echo "samples (CPU): rusqlite-only:${cpu[rusqlite-only]}; hello:${cpu[hello]}" >&2
