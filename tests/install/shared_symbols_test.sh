#!/usr/bin/env bash
# Checks the installed shared libraries: the versioned file name and SONAME, and what they
# export. Every exported symbol must belong to namespace danube (by its mangled name: after an
# optional special-name prefix such as typeinfo, vtable, guard variable or thunk, the first
# qualified-name component is "danube"); danube_proto may export the symbols of the generated
# code (every one names danube or danube_schema). The static archives hold plenty of other
# global symbols (standard library, CAF, gRPC instances), so this tests the hiding, not an
# empty library; and each library's main entry points must be there.
#   shared_symbols_test.sh <prefix> <version> <soversion> <static archive prefix>
set -euo pipefail
prefix=$1 version=$2 soversion=$3 archives=$4
libdir=$prefix/lib
failures=0
fail() {
  echo "shared_symbols_test: FAILED: $*" >&2
  failures=$((failures + 1))
}

special='(T[ISVTC]|GVZ?|Z|Thn?[0-9]+_|Tvn?[0-9]+_n?[0-9]+_)?'
ours="^_Z${special}N?[KROV]*6danube"
declare -A entry_points=(
  [danube_common]='danube::parse_topic_name('
  [danube_connect]='danube::connect::ConfigSection::parse('
  [danube_client]='danube::client::DanubeClient::create('
  [danube_services]='danube::services::default_metrics_registry()'
  [danube_testkit]='danube::testkit::EmbeddedBroker::start()'
  [danube_runtime]='danube::runtime::run_sink('
  [danube_proto]='danube::'
)

for library in danube_common danube_proto danube_connect danube_client danube_services \
  danube_testkit danube_runtime; do
  file=$libdir/lib$library.so.$version
  [[ -f $file ]] || { fail "$file missing"; continue; }
  [[ $(readlink "$libdir/lib$library.so.$soversion") == "lib$library.so.$version" ]] ||
    fail "lib$library.so.$soversion does not link to lib$library.so.$version"
  [[ $(readlink "$libdir/lib$library.so") == "lib$library.so.$soversion" ]] ||
    fail "lib$library.so does not link to lib$library.so.$soversion"
  soname=$(readelf -d "$file" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [[ $soname == "lib$library.so.$soversion" ]] || fail "$library SONAME is '$soname'"

  exported=$(nm -D --defined-only --format=posix "$file" | awk '{print $1}')
  count=$(wc -l <<<"$exported")
  if [[ $library == danube_proto ]]; then
    foreign=$(grep -v 'danube' <<<"$exported" || true)
  else
    foreign=$(grep -Ev "$ours" <<<"$exported" || true)
  fi
  if [[ -n $foreign ]]; then
    fail "$library exports $(wc -l <<<"$foreign") symbols outside namespace danube, e.g.:"
    head -5 <<<"$foreign" | c++filt >&2
  fi
  demangled=$(nm -DC --defined-only "$file")
  grep -qF "${entry_points[$library]}" <<<"$demangled" ||
    fail "$library does not export ${entry_points[$library]}"
  archived_foreign=$(nm --defined-only --format=posix "$archives/lib$library.a" 2>/dev/null |
    awk '$2 ~ /^[TWVDBR]$/ {print $1}' | grep -Ev "$ours|danube" | sort -u | wc -l)
  echo "shared_symbols_test: $library: SONAME $soname, $count symbols exported," \
    "$archived_foreign other global symbols in the static archive stay hidden"
done
((failures == 0)) || exit 1
echo "shared_symbols_test: passed"
