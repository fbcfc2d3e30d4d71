#!/usr/bin/env bash
# Code in the docs is code that builds: every ```cpp block in README.md and
# docs/*.md that follows a line
#   <!-- code: examples/tensors_and_autograd.cpp#worked -->
# must equal the lines between `// [worked]` and `// [/worked]` in that file
# (which CI compiles and runs), with the common indentation removed.
#
# usage: snippets.sh SOURCE_DIR
set -euo pipefail
cd "$1"

failures=0 checked=0
# The marked region of a file, dedented.
region() {
  awk -v name="$2" '
    $0 ~ "// \\[/" name "\\]" { inside = 0 }
    inside { lines[n++] = $0 }
    $0 ~ "// \\[" name "\\]" { inside = 1 }
    END {
      indent = 1000
      for (i = 0; i < n; i++) if (lines[i] ~ /[^ ]/) { match(lines[i], /^ */); if (RLENGTH < indent) indent = RLENGTH }
      for (i = 0; i < n; i++) print substr(lines[i], indent + 1)
    }' "$1"
}
# The code block after each marker of a markdown file: "path#name" then the block, each ended by \036.
blocks() {
  awk '
    /<!-- code: .* -->/ { sub(/.*<!-- code: */, ""); sub(/ *-->.*/, ""); want = $0; next }
    want != "" && /^```/ && !inside { inside = 1; block = ""; next }
    inside && /^```/ { printf "%s\n%s\036", want, block; inside = 0; want = ""; next }
    inside { block = block $0 "\n" }' "$1"
}

for doc in README.md docs/*.md; do
  while IFS= read -r -d $'\036' entry; do
    ref=${entry%%$'\n'*}
    shown=${entry#*$'\n'}
    file=${ref%%#*} name=${ref#*#}
    checked=$((checked + 1))
    if [ ! -f "$file" ]; then
      echo "$doc: code from $file, which does not exist"
      failures=$((failures + 1))
    elif [ "$(region "$file" "$name")" != "$(printf '%s' "$shown")" ]; then
      echo "$doc: the code shown for $ref differs from $file:"
      diff <(region "$file" "$name") <(printf '%s' "$shown") | head -20
      failures=$((failures + 1))
    fi
  done < <(blocks "$doc")
done
echo "docs snippets: $checked checked, $failures differ from the code that builds"
[ "$failures" -eq 0 ] && [ "$checked" -gt 0 ]
