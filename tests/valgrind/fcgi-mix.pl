#!/usr/bin/perl
# tests/valgrind/fcgi-mix.pl: a small FastCGI client (perl-base only) that
# drives the app over its unix socket much faster than one cgi-fcgi process
# per request. One connection per request, as nginx does (no keep-conn).
#
#   fcgi-mix.pl SOCKET mix COUNT ADMIN_TOKEN
#       COUNT requests of a mix that cycles through: PUT /stock/SKU-1
#       (admin), POST /tokens, POST /orders (JSON, that token), the same again
#       (replay), GET the order, GET /healthz, GET /nope (404), POST /orders
#       with a broken body (400), GET /metrics, GET /stock/SKU-1. Checks
#       each status; prints "requests N unexpected M" and exits 1 if M > 0
#       or a request got no answer. Needs base_path "", token_rate 0 and
#       the admin token.
#   fcgi-mix.pl SOCKET half
#       POST /orders that announces 100 bytes, sends 10 and hangs up.
#   fcgi-mix.pl SOCKET noread
#       GET /metrics, then hangs up without reading the answer.
#   fcgi-mix.pl SOCKET stall SECONDS
#       Like half, but prints "sent" once the bytes are on their way, then
#       waits SECONDS before it hangs up.
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

my ($sock_path, $mode, $count, $admin) = @ARGV;
die "usage: $0 SOCKET mix COUNT ADMIN_TOKEN | half | noread | stall SECONDS\n" unless defined $mode;
my $req_id = 1;

sub record {
	my ($type, $content) = @_;
	my $len = length $content;
	my $pad = (8 - $len % 8) % 8;
	return pack('CCnnCC', 1, $type, $req_id, $len, $pad, 0) . $content . ("\0" x $pad);
}

sub nv_len {
	my ($l) = @_;
	return $l < 128 ? pack('C', $l) : pack('N', $l | 0x80000000);
}

# The bytes of one request: BEGIN_REQUEST (responder, no keep-conn), the
# params, the body as STDIN (the empty records end both streams).
sub request_bytes {
	my ($method, $uri, $body, $params, $announce) = @_;
	my ($path, $qs) = split /\?/, $uri, 2;
	my %env = (
		REQUEST_METHOD    => $method,
		REQUEST_URI       => $uri,
		SCRIPT_NAME       => $path,
		QUERY_STRING      => defined $qs ? $qs : '',
		SERVER_PROTOCOL   => 'HTTP/1.1',
		GATEWAY_INTERFACE => 'CGI/1.1',
		REMOTE_ADDR       => '127.0.0.1',
		CONTENT_LENGTH    => defined $announce ? $announce : length $body,
		CONTENT_TYPE      => 'application/json',
		%$params,
	);
	my $nv = '';
	for my $k (sort keys %env) {
		$nv .= nv_len(length $k) . nv_len(length $env{$k}) . $k . $env{$k};
	}
	my $out = record(1, pack('nCx5', 1, 0));
	$out .= record(4, $nv) . record(4, '');
	$out .= record(5, $body) if length $body;
	$out .= record(5, '') unless defined $announce;
	return $out;
}

sub connect_app {
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock_path)
		or die "connect $sock_path: $!\n";
	return $s;
}

sub write_all {
	my ($s, $bytes) = @_;
	my $off = 0;
	while ($off < length $bytes) {
		my $n = syswrite($s, $bytes, length($bytes) - $off, $off);
		return 0 unless defined $n && $n > 0;
		$off += $n;
	}
	return 1;
}

# One request; returns (status, headers, body), status 0 when no complete
# answer (no END_REQUEST) came back.
sub fcgi {
	my ($method, $uri, $body, $params) = @_;
	my $s = connect_app();
	write_all($s, request_bytes($method, $uri, $body, $params)) or return (0, '', '');
	my ($buf, $stdout, $ended) = ('', '', 0);
	while (!$ended) {
		my $n = sysread($s, $buf, 65536, length $buf);
		last unless defined $n && $n > 0;
		while (length $buf >= 8) {
			my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
			last if length $buf < 8 + $len + $pad;
			my $content = substr($buf, 8, $len);
			substr($buf, 0, 8 + $len + $pad) = '';
			if ($type == 6) {
				$stdout .= $content;
			} elsif ($type == 3) {
				$ended = 1;
				last;
			}
		}
	}
	close $s;
	return (0, '', '') unless $ended;
	my ($head, $resp_body) = split /\r?\n\r?\n/, $stdout, 2;
	$resp_body = '' unless defined $resp_body;
	my $status = $head =~ /^Status: (\d+)/mi ? $1 : 200;
	return ($status, $head, $resp_body);
}

if ($mode eq 'half' || $mode eq 'stall') {
	my $s = connect_app();
	write_all($s, request_bytes('POST', '/orders', '{"items":[', {}, 100));
	if ($mode eq 'stall') {
		$| = 1;
		print "sent\n";
		sleep $count;
	}
	close $s;
	exit 0;
}
if ($mode eq 'noread') {
	my $s = connect_app();
	write_all($s, request_bytes('GET', '/metrics', '', {}));
	close $s;
	exit 0;
}
die "usage: $0 SOCKET mix COUNT ADMIN_TOKEN\n" unless $mode eq 'mix' && defined $admin;

my ($token, $order_id) = ('', '');
my $order = '{"items":[{"sku":"SKU-1","qty":1}],"customer":"rss"}';
my @steps = (
	sub {
		return ((fcgi('PUT', '/stock/SKU-1', '{"available":1000000}',
			{HTTP_AUTHORIZATION => "Bearer $admin"}))[0], 200);
	},
	sub {
		my ($st, $h, $b) = fcgi('POST', '/tokens', '', {});
		$token = $b =~ /"token":"([^"]+)"/ ? $1 : '';
		return ($st, 201);
	},
	sub {
		my ($st, $h, $b) = fcgi('POST', '/orders', $order, {HTTP_IDEMPOTENCY_KEY => $token});
		$order_id = $b =~ /"order_id":"([^"]+)"/ ? $1 : '';
		return ($st, 201);
	},
	sub {
		my ($st, $h) = fcgi('POST', '/orders', $order, {HTTP_IDEMPOTENCY_KEY => $token});
		return ($h =~ /^Idempotent-Replayed: true/mi ? $st : "$st-not-replayed", 201);
	},
	sub { return ((fcgi('GET', "/orders/$order_id", '', {}))[0], 200) },
	sub { return ((fcgi('GET', '/healthz', '', {}))[0], 200) },
	sub { return ((fcgi('GET', '/nope', '', {}))[0], 404) },
	sub {
		return ((fcgi('POST', '/orders', '{"items":[', {HTTP_IDEMPOTENCY_KEY => $token}))[0],
			400);
	},
	sub { return ((fcgi('GET', '/metrics', '', {}))[0], 200) },
	sub { return ((fcgi('GET', '/stock/SKU-1', '', {}))[0], 200) },
);

my ($done, $bad, $none) = (0, 0, 0);
for my $i (0 .. $count - 1) {
	my ($got, $want) = $steps[$i % @steps]->();
	$done++;
	$none++ if $got eq '0';
	next if $got eq $want;
	$bad++;
	print STDERR "request $i (step ", $i % @steps, "): expected $want, got $got\n" if $bad <= 5;
}
print "requests $done unexpected $bad unanswered $none\n";
exit($bad ? 1 : 0);
