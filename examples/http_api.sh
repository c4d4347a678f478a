#!/usr/bin/env bash
# The HTTP API from any language: capture interests from your own bot, then ask for recommendations.
# Start the server first (`make run` or `interest-bot serve`). Set IBOT_API_KEY on both sides to require a key.
set -euo pipefail
URL=${IBOT_URL:-http://127.0.0.1:7860}
AUTH=(); [ -n "${IBOT_API_KEY:-}" ] && AUTH=(-H "Authorization: Bearer $IBOT_API_KEY")

# 1. Your bot saw a message: let interest-bot learn from it (no LLM involved).
curl -sS "${AUTH[@]}" -X POST "$URL/v1/observe" -H 'content-type: application/json' \
  -d '{"user_id": "alice", "message": "I love heist movies but horror is not for me"}'
echo
# 2. Ranked, explained recommendations for Alice.
curl -sS "${AUTH[@]}" "$URL/v1/users/alice/recommendations?k=3"
echo
# 3. She liked the first one.
curl -sS "${AUTH[@]}" -X POST "$URL/v1/users/alice/feedback" -H 'content-type: application/json' \
  -d '{"item_id": "movielens-100k:50", "liked": true}'
echo
# 4. What was learned, and forgetting it all.
curl -sS "${AUTH[@]}" "$URL/v1/users/alice/profile" | head -c 400; echo
curl -sS "${AUTH[@]}" -X DELETE "$URL/v1/users/alice"
echo
