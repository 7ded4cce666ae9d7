## man/: the manual pages, written by hand in mdoc(7); installed by make
## install. man/test_man.sh lints them (mandoc -Tlint) and checks that
## --help points to them; tests/unit/test_config checks that
## antireplay.conf(5) has an item for every key the code knows.
dist_man_MANS = man/antireplay-fcgi.8 man/antireplay.conf.5 man/antireplay-drain.8
TESTS += man/test_man.sh
dist_check_SCRIPTS += man/test_man.sh
