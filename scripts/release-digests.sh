#!/usr/bin/env bash
# Determinism across build profiles: the digests a debug build computes for the golden list
# (tests/determinism.rs, `golden_digests_for_the_release_check`) must be printed by a release
# build too. Not part of `cargo test` (a release build takes minutes); run it by hand or in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo test --test determinism golden_digests_for_the_release_check -q
cargo build --release -q
list="$target/tmp/podlab-golden-digests.txt"
failed=0
while read -r file policy seed digest; do
  got=$("$target/release/podlab" run "$file" --policy "$policy" --seed "$seed" | grep -o 'blake3:[0-9a-f]*' | head -1)
  if [ "$got" = "$digest" ]; then echo "same     $file $policy $seed"; else echo "DIFFERS  $file $policy $seed: debug $digest, release $got"; failed=1; fi
done < "$list"
exit "$failed"
