## tests/e2e: Apache 2.4 in front of the app, the shared scenario through
## mod_proxy_fcgi (app under spawn-fcgi) and through mod_fcgid (Apache
## spawns the app), with the conf/apache snippets as shipped.
TESTS += tests/e2e/test_apache_proxy.sh tests/e2e/test_apache_fcgid.sh
dist_check_SCRIPTS += tests/e2e/test_apache_proxy.sh tests/e2e/test_apache_fcgid.sh
EXTRA_DIST += tests/e2e/apache.sh
