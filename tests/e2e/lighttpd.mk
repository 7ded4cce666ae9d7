## tests/e2e, lighttpd: the shared scenario behind lighttpd, once in front
## of a spawn-fcgi pool ("socket") and once spawning the app ("bin-path").
TESTS += tests/e2e/test_lighttpd_socket.sh tests/e2e/test_lighttpd_binpath.sh
dist_check_SCRIPTS += tests/e2e/test_lighttpd_socket.sh tests/e2e/test_lighttpd_binpath.sh
EXTRA_DIST += tests/e2e/lighttpd.sh
