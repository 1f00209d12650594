# bench/waitress_app.py: the hello app for Waitress in bench/peers.mjs, a WSGI app answering the
# same bytes as the Node servers (200, text/plain;charset=UTF-8, Content-Length 13, "Hello, World!").
# Served as `python3 -m waitress --listen=127.0.0.1:PORT waitress_app:app` from bench/.
import logging

# Under load Waitress warns "Task queue depth is N" for most requests (50 connections, 4 threads):
# written to a pipe, that logging would be measured as Waitress's cost. Errors still show.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

BODY = b"Hello, World!"
HEADERS = [("Content-Type", "text/plain;charset=UTF-8"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
