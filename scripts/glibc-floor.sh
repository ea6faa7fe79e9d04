#!/bin/sh
# The lowest glibc a native binary loads with: the highest GLIBC_x.y symbol
# version it needs (objdump -T lists each imported symbol with its version).
set -eu
file=${1:?usage: scripts/glibc-floor.sh ELF-FILE}
objdump -T "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1
