#!/usr/bin/env bash
# Builds a real-text corpus for the word-count benchmarks (`zflow wordcount` and the Python/Dask baselines in
# ../shared/bench/dask_wordcount.py) from the plain-text documentation already installed on this machine.
# For benchmarks only: the corpus is not shipped, not committed and not used by the tests.
#
# Usage: scripts/doc-corpus.sh DIR [MB]   (MB defaults to 188; 1 MB = 1,000,000 bytes)
#
# Fills DIR with about MB megabytes of `.txt` files, one per source document, its text kept as it is
# (decompressed; re-encoded to UTF-8 only where it was ISO-8859-1). Sources, in this order, each in sorted
# (LC_ALL=C) path order so the same machine always gives the same corpus:
#   /usr/share/doc             plain files and .gz/.xz/.bz2 decompressed; binaries skipped (NUL bytes, or
#                              `file --mime` charset=binary), and so are PostScript, PDF, DVI and images
#   /usr/share/man             decompressed roff (`.so` redirect stubs skipped)
#   /usr/share/perl*/**/*.pod
#   /usr/share/info            decompressed
#   /usr/share/common-licenses
# Files with the same content are kept once (many packages ship the same copyright or changelog). Files are
# added until the total reaches MB; the last one may overshoot by its own size. If the machine's text runs out
# first, that is said on stderr and the set is repeated as NAME.r2.txt, NAME.r3.txt, ... until MB is reached.
# A file whose text is not valid UTF-8 (nor ISO-8859-1) is skipped, so every reader decodes the corpus alike.
#
# DIR is created if missing. An existing DIR must be empty or an earlier corpus (it holds the marker
# .doc-corpus); the earlier corpus's .txt files are deleted first. Prints one line on stdout at the end:
#   doc-corpus: N files, B bytes in DIR
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: $0 DIR [MB]   (MB: whole megabytes, default 188)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
dir="$1"
mb="${2:-188}"
[[ "$mb" =~ ^[0-9]+$ ]] && [ "$mb" -gt 0 ] || usage
target=$((mb * 1000000))

if [ -e "$dir" ] && [ ! -d "$dir" ]; then
  echo "doc-corpus: $dir exists and is not a directory" >&2; exit 1
fi
mkdir -p "$dir"
if [ -e "$dir/.doc-corpus" ]; then
  find "$dir" -maxdepth 1 -type f -name '*.txt' -delete
elif [ -n "$(ls -A "$dir")" ]; then
  echo "doc-corpus: $dir is not empty and holds no earlier corpus (no $dir/.doc-corpus): refusing to write there" >&2
  exit 1
fi
echo "made by scripts/doc-corpus.sh for the word-count benchmarks; its .txt files are replaced on each run" \
  > "$dir/.doc-corpus"
tmp="$dir/.doc-corpus.tmp"
trap 'rm -f "$tmp"' EXIT

declare -A seen=()      # "crc size" of every kept file -> 1
names=() sizes=()       # kept files, in order
total=0

# keep SRC SOURCE-ROOT CHECK-MIME: decompresses/copies SRC into DIR unless it is binary, not UTF-8 (or Latin-1),
# a duplicate or a man `.so` stub. Sets $why to the reason when it skips (returns 1).
keep() {
  local src="$1" root="$2" check_mime="$3" in rel name out mime sum
  why=""
  case "$src" in
    *.gz)  gzip -dc -- "$src" > "$tmp" 2>/dev/null || { why=corrupt; return 1; }; in="$tmp" ;;
    *.xz)  xz -dc -- "$src" > "$tmp" 2>/dev/null || { why=corrupt; return 1; }; in="$tmp" ;;
    *.bz2) bzip2 -dc -- "$src" > "$tmp" 2>/dev/null || { why=corrupt; return 1; }; in="$tmp" ;;
    *)     in="$src" ;;
  esac
  # Binary: a NUL byte early on (grep -I), or nothing but blank lines.
  grep -Iq '[^[:space:]]' "$in" || { why=binary; return 1; }
  if [ "$check_mime" = 1 ]; then
    mime=$(file -b --mime "$in")
    case "$mime" in
      *charset=binary*|application/postscript*|application/pdf*|application/x-dvi*|image/*|application/vnd.*)
        why=binary; return 1 ;;
    esac
  fi
  if [ "$root" = /usr/share/man ]; then
    local first=""
    IFS= read -r first < "$in" || true
    if [[ "$first" == .so\ * ]] && [ "$(wc -l < "$in")" -le 1 ]; then why=stub; return 1; fi
  fi
  rel="${src#/usr/share/}"
  rel="${rel%.gz}"; rel="${rel%.xz}"; rel="${rel%.bz2}"
  rel="${rel//\//_}"
  rel="${rel//[^A-Za-z0-9._+-]/_}"
  rel="${rel:0:180}"
  printf -v name '%05d-%s.txt' $(( ${#names[@]} + 1 )) "$rel"
  out="$dir/$name"
  if ! iconv -f UTF-8 -t UTF-8 "$in" > "$out" 2>/dev/null; then
    case "$(file -b --mime-encoding "$in")" in
      iso-8859-1) iconv -f ISO-8859-1 -t UTF-8 "$in" > "$out" ;;
      *) rm -f "$out"; why=encoding; return 1 ;;
    esac
  fi
  sum=$(cksum < "$out")            # "CRC SIZE": CRC-32 and byte count in one pass
  if [ -n "${seen[$sum]:-}" ]; then rm -f "$out"; why=duplicate; return 1; fi
  seen[$sum]=1
  names+=("$name")
  sizes+=("${sum#* }")
  total=$((total + ${sum#* }))
}

roots=(/usr/share/doc /usr/share/man)
for p in /usr/share/perl*; do [ -d "$p" ] && roots+=("$p"); done
roots+=(/usr/share/info /usr/share/common-licenses)

for root in "${roots[@]}"; do
  [ -d "$root" ] || continue
  [ "$total" -lt "$target" ] || break
  kept=0 kbytes=$total
  declare -A skipped=()
  filter=()
  case "$root" in /usr/share/perl*) filter=(-name '*.pod') ;; esac
  check_mime=0
  [ "$root" = /usr/share/doc ] && check_mime=1
  while IFS= read -r -d '' f; do
    if keep "$f" "$root" "$check_mime"; then
      kept=$((kept + 1))
      [ "$total" -lt "$target" ] || break
    else
      skipped[$why]=$(( ${skipped[$why]:-0} + 1 ))
    fi
  done < <(find "$root" -type f "${filter[@]}" -print0 | sort -z)
  msg="doc-corpus: $root: kept $kept files, $((total - kbytes)) bytes"
  for k in binary corrupt duplicate encoding stub; do
    [ -z "${skipped[$k]:-}" ] || msg+=", skipped ${skipped[$k]} $k"
  done
  echo "$msg" >&2
  unset skipped
done
rm -f "$tmp"

n=${#names[@]}
if [ "$n" -eq 0 ]; then
  echo "doc-corpus: no documentation text found on this machine" >&2; exit 1
fi
if [ "$total" -lt "$target" ]; then
  echo "doc-corpus: the machine's documentation ran out at $n files, $total bytes (< $target):" \
    "repeating the set as NAME.rK.txt" >&2
  r=2
  while [ "$total" -lt "$target" ]; do
    for i in "${!names[@]}"; do
      cp -- "$dir/${names[$i]}" "$dir/${names[$i]%.txt}.r$r.txt"
      n=$((n + 1))
      total=$((total + sizes[i]))
      [ "$total" -lt "$target" ] || break
    done
    r=$((r + 1))
  done
fi
echo "doc-corpus: $n files, $total bytes in $dir"
