# fcgi_probe.pl: a raw FastCGI client for the limit and security tests, in
# plain perl-base (IO::Socket::UNIX, IO::Select, Getopt::Long): what
# cgi-fcgi cannot send. Params of any size and number, crafted
# name/value length fields, a body sent only in part.
#
#   perl fcgi_probe.pl --socket PATH [options]
#     --param NAME=VALUE   a param (repeatable; order kept)
#     --pad NAME=BYTES     a param whose value is BYTES bytes of 'a'
#     --many N             N extra params HTTP_X_P<i>=v
#     --many-name NAME     ... all called NAME instead (repeated param)
#     --many-size BYTES    ... with values of BYTES bytes of 'v' (default 1)
#     --raw-params HEX     params bytes sent as they are, in one record,
#                          after the others (crafted length fields)
#     --stdin TEXT         the body (default empty)
#     --stdin-bytes N      the body is N bytes of 'x'
#     --send-stdin K       send only the first K body bytes and no end of
#                          stdin, then wait for the answer
#     --role N             the FastCGI role: 1 responder (default), 2
#                          authorizer (what lighttpd and Apache send a gate)
#     --timeout SEC        how long to wait for the answer (default 30: a
#                          bound for a hung worker, not a speed limit; the
#                          probe returns as soon as the answer ends)
#     --out FILE           the FCGI_STDOUT bytes (the CGI response)
#     --repeat N           the same request N times, one connection each
#     --vary NAME=FILE     with --repeat: request i gets line i of FILE as
#                          the value of param NAME
#     --bodies FILE        append each response body, one a line, to FILE
# Prints one line per request:
#   result=response|closed|timeout status=NNN|- stdout=BYTES end=0|1
#   stdin_sent=K
# (response: an FCGI_END_REQUEST came; closed: the peer closed first;
# timeout: nothing ended within --timeout seconds).
use strict;
use warnings;
use Getopt::Long;
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

$SIG{PIPE} = 'IGNORE';

my ($socket, @params, @pads, $many, $many_name, $many_size, @raw, $stdin, $stdin_bytes, $send_stdin);
my ($timeout, $out, $repeat, $vary, $bodies, $role) = (30, undef, 1, undef, undef, 1);
GetOptions(
	'socket=s' => \$socket,
	'param=s' => sub { push @params, [split /=/, $_[1], 2] },
	'pad=s' => sub { my ($n, $s) = split /=/, $_[1], 2; push @params, [$n, 'a' x $s] },
	'many=i' => \$many,
	'many-name=s' => \$many_name,
	'many-size=i' => \$many_size,
	'raw-params=s' => \@raw,
	'stdin=s' => \$stdin,
	'stdin-bytes=i' => \$stdin_bytes,
	'send-stdin=i' => \$send_stdin,
	'role=i' => \$role,
	'timeout=f' => \$timeout,
	'out=s' => \$out,
	'repeat=i' => \$repeat,
	'vary=s' => \$vary,
	'bodies=s' => \$bodies,
) or die "fcgi_probe.pl: bad arguments\n";
die "fcgi_probe.pl: --socket is required\n" unless defined $socket;

$stdin = 'x' x $stdin_bytes if defined $stdin_bytes;
$stdin = '' unless defined $stdin;
if ($many) {
	for my $i (1 .. $many) {
		push @params, [defined $many_name ? $many_name : "HTTP_X_P$i", 'v' x ($many_size // 1)];
	}
}

sub record {
	my ($type, $content) = @_;
	return pack('CCnnCC', 1, $type, 1, length $content, 0, 0) . $content;
}

# A stream (PARAMS or STDIN) cut into records of at most 65535 bytes; no
# end-of-stream record.
sub stream_records {
	my ($type, $bytes) = @_;
	my $r = '';
	for (my $off = 0; $off < length $bytes; $off += 65535) {
		$r .= record($type, substr($bytes, $off, 65535));
	}
	return $r;
}

sub nv_len {
	my ($n) = @_;
	return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000);
}

sub send_all {
	my ($s, $bytes) = @_;
	my $off = 0;
	while ($off < length $bytes) {
		my $n = syswrite($s, $bytes, length($bytes) - $off, $off);
		return $off unless defined $n && $n > 0;
		$off += $n;
	}
	return $off;
}

# How many body bytes the first $x bytes of the STDIN records carried
# (record headers not counted).
sub body_bytes_sent {
	my ($x, $len) = @_;
	my $got = 0;
	while ($x > 8 && $got < $len) {
		my $chunk = $len - $got < 65535 ? $len - $got : 65535;
		my $n = $x - 8 < $chunk ? $x - 8 : $chunk;
		$got += $n;
		$x -= 8 + $chunk;
	}
	return $got;
}

sub one_request {
	my (@extra) = @_;
	my $params = '';
	$params .= nv_len(length $_->[0]) . nv_len(length $_->[1]) . $_->[0] . $_->[1]
	    for @params, @extra;
	my $head = record(1, pack('nCx5', $role, 0)) . stream_records(4, $params);
	$head .= record(4, pack('H*', $_)) for @raw;
	$head .= record(4, '');
	my $body = $stdin;
	my $partial = defined $send_stdin;
	$body = substr($body, 0, $send_stdin) if $partial;
	my $req = $head . stream_records(5, $body);
	$req .= record(5, '') unless $partial;
	# Connect only now that the request is built: building a 10 MB body
	# takes a while on a loaded machine, and a worker that hears nothing for
	# client_timeout_ms (10 s) after the connect rightly drops it (seen once
	# with the machine some 100 times slower than idle).
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $socket)
	    or return "result=closed status=- stdout=0 end=0 stdin_sent=0 connect_error=1";
	# The writes may block when the worker stops reading (it answered
	# early): write only what the socket takes, read meanwhile.
	my $sel = IO::Select->new($s);
	my ($sent, $buf, $stdout, $end, $closed) = (0, '', '', 0, 0);
	my $deadline = time + $timeout;
	$s->blocking(0);
	while (!$end && !$closed) {
		my $left = $deadline - time;
		last if $left < 0;
		my @w = $sent < length $req ? ($s) : ();
		my ($r, $wr) = IO::Select->select($sel, @w ? IO::Select->new(@w) : undef, undef,
		    $left > 0.2 ? 0.2 : $left);
		if ($wr && @$wr) {
			my $n = syswrite($s, $req, length($req) - $sent, $sent);
			$sent += $n if defined $n && $n > 0;
		}
		if ($r && @$r) {
			my $n = sysread($s, $buf, 65536, length $buf);
			if (!defined $n || $n == 0) {
				$closed = 1;
			}
			while (length $buf >= 8) {
				my ($v, $type, $id, $clen, $plen) = unpack('CCnnC', $buf);
				last if length $buf < 8 + $clen + $plen;
				my $content = substr($buf, 8, $clen);
				substr($buf, 0, 8 + $clen + $plen) = '';
				$stdout .= $content if $type == 6;
				$end = 1 if $type == 3;
			}
		}
	}
	close $s;
	my $stdin_sent = body_bytes_sent($sent - length($head), length $body);
	my ($status) = $stdout =~ /^Status: (\d{3})/m;
	$status = length $stdout ? '200' : '-' unless defined $status;
	if (defined $out) {
		open my $fh, '>', $out or die "fcgi_probe.pl: $out: $!\n";
		binmode $fh;
		print $fh $stdout;
		close $fh;
	}
	if (defined $bodies) {
		open my $fh, '>>', $bodies or die "fcgi_probe.pl: $bodies: $!\n";
		binmode $fh;
		(my $b = $stdout) =~ s/\A.*?\r?\n\r?\n//s;
		$b =~ s/\n/ /g;
		print $fh "$b\n";
		close $fh;
	}
	my $result = $end ? 'response' : $closed ? 'closed' : 'timeout';
	return sprintf 'result=%s status=%s stdout=%d end=%d stdin_sent=%d', $result, $status,
	    length $stdout, $end, $stdin_sent;
}

my @values;
if (defined $vary) {
	my ($name, $file) = split /=/, $vary, 2;
	open my $fh, '<', $file or die "fcgi_probe.pl: $file: $!\n";
	chomp(@values = <$fh>);
	close $fh;
	@values = map { [$name, $_] } @values;
}
for my $i (1 .. $repeat) {
	print one_request(defined $vary ? ($values[$i - 1] // die "fcgi_probe.pl: $vary: too few lines\n") : ()), "\n";
}
