"""The real-stack test's web app: notes kept in postgres, a visit counter in redis.

GET /health          200 once postgres and redis answer
POST /notes?text=T   stores a note, prints its id
GET /notes           the notes (one a line) and the visit count
"""

import os
import signal
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis

DATABASE_URL = os.environ["DATABASE_URL"]
CACHE = redis.Redis(host=os.environ.get("REDIS_HOST", "localhost"), port=6379)


def db():
    return psycopg2.connect(DATABASE_URL, connect_timeout=5)


def setup():
    with db() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL)")


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/health":
            with db() as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
            CACHE.ping()
            return self.reply(200, "ok\n")
        if url.path == "/notes":
            visits = CACHE.incr("visits")
            with db() as conn, conn.cursor() as cur:
                cur.execute("SELECT text FROM notes ORDER BY id")
                notes = [row[0] for row in cur.fetchall()]
            return self.reply(200, "".join(f"note: {n}\n" for n in notes) + f"visits: {visits}\n")
        return self.reply(404, "not found\n")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/notes":
            return self.reply(404, "not found\n")
        text = urllib.parse.parse_qs(url.query).get("text", [""])[0]
        with db() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO notes (text) VALUES (%s) RETURNING id", (text,))
            (note_id,) = cur.fetchone()
        return self.reply(201, f"{note_id}\n")


if __name__ == "__main__":
    # PID 1 ignores SIGTERM unless it handles it: stop at once, not after
    # the 10 s grace period.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    setup()
    print("app: listening on :8000", flush=True)
    ThreadingHTTPServer(("", 8000), Handler).serve_forever()
