## tests/js: the browser client (client/antireplay.js) under Node's own
## test runner (node:test), against a scripted fetch; `node --test` exits
## non-zero when a test fails. Without Node (configure found none) the test
## is an ERROR that says so, never a pass.
TESTS += tests/js/test_antireplay.mjs
TEST_EXTENSIONS += .mjs
if HAVE_NODE
MJS_LOG_COMPILER = $(NODE)
else
MJS_LOG_COMPILER = $(SHELL) -c 'echo "configure found no Node.js (Debian: nodejs): install it and rerun configure" >&2; exit 99' no-node
endif
AM_MJS_LOG_FLAGS = --test
EXTRA_DIST += tests/js/test_antireplay.mjs
## "type": "module": Node before 20.19 (Debian 12 has 18) reads a .js file
## as CommonJS without it, and the test could not import the client.
EXTRA_DIST += client/package.json
## The client is installed for web servers to serve:
## $(pkgdatadir)/antireplay.js (/usr/share/antireplay/antireplay.js).
dist_pkgdata_DATA = client/antireplay.js
