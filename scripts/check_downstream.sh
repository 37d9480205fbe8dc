#!/usr/bin/env bash
# vitscope as a dependency, end to end: `mvn install` (jar, sources, javadoc), then the README's program
#  1. through DownstreamProgramTest against the installed jar, and
#  2. as a separate Maven project whose pom has only the README's dependency snippet.
# Offline once the dependencies are in ~/.m2. Usage: scripts/check_downstream.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
cd "$here"
if [ "${SKIP_INSTALL:-}" != 1 ]; then
  echo "== mvn install (tests skipped here; mvn test runs them)"
  nice -n 10 mvn -q -o -DskipTests install
fi
version="$(sed -n 's:.*<artifactId>vitscope</artifactId>[[:space:]]*::; /<version>/{s:.*<version>\(.*\)</version>.*:\1:p;q}' pom.xml)"
ls -l ~/.m2/repository/io/vitscope/vitscope/"$version"/*.jar
echo "== DownstreamProgramTest against the installed jar"
nice -n 10 mvn -q -o test -Dtest=DownstreamProgramTest -Dvitscope.downstream.installed=true
echo "== a separate Maven project in $work"
mkdir -p "$work/src/main/java"
python3 - "$here/README.md" "$work" <<'PY'
import re, sys
readme, work = open(sys.argv[1]).read(), sys.argv[2]
dep = re.search(r"<!-- downstream:pom -->\s*```xml\n(.*?)```", readme, re.S).group(1)
prog = re.search(r"<!-- downstream:program -->\s*```java\n(.*?)```", readme, re.S).group(1)
open(f"{work}/src/main/java/Demo.java", "w").write(prog)
open(f"{work}/pom.xml", "w").write(f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId><artifactId>downstream</artifactId><version>1</version>
  <properties><maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <dependencies>
{dep}  </dependencies>
  <build><plugins>
    <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
    <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
    <plugin><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
  </plugins></build>
</project>
""")
PY
(cd "$work" && nice -n 10 mvn -q -o compile dependency:build-classpath -Dmdep.outputFile=cp.txt \
  && java -Dai.djl.offline=true -cp "target/classes:$(cat cp.txt)" Demo \
       "$here/src/test/resources/golden/checkpoints/tiny/model_zip.pth" "$here/images/fashion/fashion_0_ankle_boot.png")
