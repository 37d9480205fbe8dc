#!/usr/bin/env bash
# Runs notebooks/*.ipynb top to bottom in a real Jupyter (nbconvert --execute, nbclient) with a minimal Java kernel
# built from src/kernel/java (Maven profile -Pkernel: JJava's kernel framework jjava-jupyter + the JDK's JShell), then
# compares each executed notebook's outputs with the stored ones: stdout text per cell must be equal, images per cell
# must be as many and of the same pixel size (it also reports how many are byte-identical PNGs; mvn test's
# NotebooksTest is the one that compares pixels). stderr (DJL's log lines) is not compared. Prints PASS/FAIL per
# notebook; exits non-zero if any fails.
#
#   scripts/notebooks_in_jupyter.sh [NOTEBOOK...]      (default: notebooks/*.ipynb)
#
# Needs Debian's jupyter-nbconvert and python3-nbclient (they bring jupyter-core and python3-ipykernel). The
# kernelspec goes into a temporary JUPYTER_PATH, never into the user's Jupyter. Executed copies: target/notebooks-executed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py=/usr/bin/python3
out="$here/target/notebooks-executed"

missing=()
[ -x "$py" ] || missing+=("python3")
command -v jupyter >/dev/null && jupyter nbconvert --version >/dev/null 2>&1 || missing+=("jupyter-nbconvert")
"$py" -c 'import nbclient, nbformat' 2>/dev/null || missing+=("python3-nbclient")
command -v java >/dev/null || missing+=("openjdk-17-jdk-headless")
command -v mvn >/dev/null || missing+=("maven")
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    echo "install with: apt-get install -y ${missing[*]}" >&2
    exit 2
fi

cd "$here"
echo "== building (mvn -q -Pkernel -DskipTests compile)"
mvn -q -Pkernel -DskipTests compile
cp="$here/target/classes:$(cat target/classpath.txt):$(cat target/kernel-classpath.txt)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/kernels/java"
"$py" - "$tmp/kernels/java/kernel.json" "$cp" <<'PY'
import json, sys
path, cp = sys.argv[1], sys.argv[2]
spec = {
    "argv": ["java", "-cp", cp, "-Dai.djl.offline=true", "-Djava.awt.headless=true",
             "-Dvitscope.notebook.model=default", "io.vitscope.kernel.VitscopeKernel", "{connection_file}"],
    "display_name": "Java (vitscope check kernel)",
    "language": "java",
}
with open(path, "w") as f:
    json.dump(spec, f, indent=1)
PY
export JUPYTER_PATH="$tmp" JUPYTER_DATA_DIR="$tmp" JUPYTER_CONFIG_DIR="$tmp/config" JUPYTER_RUNTIME_DIR="$tmp/runtime"
echo "== kernelspec java: $("$py" -c 'from jupyter_client.kernelspec import KernelSpecManager as M; print(M().get_kernel_spec("java").resource_dir)')"

if [ $# -gt 0 ]; then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi
mkdir -p "$out"
status=0
for nb in "${notebooks[@]}"; do
    name="$(basename "$nb")"
    echo "== executing $name"
    start=$(date +%s)
    if ! jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
            --ExecutePreprocessor.kernel_name=java --output-dir "$out" "$nb" >"$out/$name.log" 2>&1; then
        tail -40 "$out/$name.log"
        echo "FAIL $name: did not run to the end (log: $out/$name.log)"
        status=1
        continue
    fi
    echo "   ran in $(( $(date +%s) - start )) s"
    "$py" - "$nb" "$out/$name" <<'PY' || status=1
import base64, json, struct, sys

def cells(path):
    with open(path) as f:
        nb = json.load(f)
    result = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        text, images = "", []
        for o in c["outputs"]:
            if o["output_type"] == "stream" and o["name"] == "stdout":
                t = o["text"]
                text += "".join(t) if isinstance(t, list) else t
            elif o["output_type"] in ("display_data", "execute_result") and "image/png" in o.get("data", {}):
                png = base64.b64decode("".join(o["data"]["image/png"]))
                images.append((struct.unpack(">II", png[16:24]), png))
            elif o["output_type"] == "error":
                text += "ERROR " + o["ename"] + ": " + o["evalue"] + "\n"
        result.append((text.replace("\r\n", "\n"), images))
    return result

stored, executed = cells(sys.argv[1]), cells(sys.argv[2])
name = sys.argv[1].rsplit("/", 1)[-1]
problems = []
if len(stored) != len(executed):
    problems.append(f"{len(stored)} code cells stored, {len(executed)} executed")
n_text = n_img = n_same = 0
for i, ((st, si), (et, ei)) in enumerate(zip(stored, executed), 1):
    n_text += len(st.splitlines())
    n_img += len(si)
    n_same += sum(1 for a, b in zip(si, ei) if a[1] == b[1])
    if st != et:
        import difflib
        diff = "\n".join(difflib.unified_diff(st.splitlines(), et.splitlines(), "stored", "executed", lineterm="", n=1))
        problems.append(f"code cell {i}: stdout differs\n{diff}")
    if [s for s, _ in si] != [s for s, _ in ei]:
        problems.append(f"code cell {i}: image sizes stored {[s for s, _ in si]}, executed {[s for s, _ in ei]}")
if problems:
    print(f"FAIL {name}")
    for p in problems:
        print("  " + p.replace("\n", "\n  "))
    sys.exit(1)
print(f"PASS {name}: {len(stored)} code cells, {n_text} stdout lines equal, {n_img} images of the same size"
      f" ({n_same} of them byte-identical PNGs)")
PY
done
exit $status
