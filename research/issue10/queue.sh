#!/bin/bash
# queue.sh: run lines of queue.txt ("name|train args|ckpts|sample args"), at most 2 at a time; lines are consumed.
cd "$(dirname "$0")"
while true; do
  n=$(pgrep -f "exp.sh" | wc -l)
  if [ "$n" -lt 2 ] && [ -s queue.txt ]; then
    line=$(head -n1 queue.txt); sed -i 1d queue.txt
    IFS='|' read -r name targs cks sargs <<< "$line"
    THREADS=1 nohup ./exp.sh "$name" "$targs" "$cks" "$sargs" > runs/$name.out 2>&1 &
    sleep 5
  fi
  sleep 20
done
