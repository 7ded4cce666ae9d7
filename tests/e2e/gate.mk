## tests/e2e, the gate (issue 12): examples/php-checkout under a private
## php-fpm (tests/lib/php.sh) behind each front's gate snippet, the app
## consuming the token; gate_scenario.sh is the contract, shared.
TESTS += tests/e2e/test_gate_nginx.sh tests/e2e/test_gate_apache.sh \
	tests/e2e/test_gate_lighttpd.sh
dist_check_SCRIPTS += tests/e2e/test_gate_nginx.sh tests/e2e/test_gate_apache.sh \
	tests/e2e/test_gate_lighttpd.sh
EXTRA_DIST += tests/e2e/gate_scenario.sh tests/lib/php.sh examples/php-checkout/README.md
## examples/php-checkout: the shop checkout the gate protects in the tests,
## installed as an example.
examplesphpdir = $(docdir)/examples/php-checkout
dist_examplesphp_DATA = examples/php-checkout/form.php examples/php-checkout/checkout.php
