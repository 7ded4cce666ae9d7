# redis_stall_proxy.pl: a loopback TCP proxy in front of a Redis unix
# socket (perl-base only) that stalls Redis's replies once: when a reply
# holding MARK comes back (a step of a script ran), everything Redis sends
# on any connection is held for STALL seconds, as a Redis that ran a
# command and then stalled before writing replies (a fork, an fsync,
# another client's slow command in the same loop turn) would.
#
#   perl redis_stall_proxy.pl PORT REDIS_SOCK MARK STALL
# Prints "ready" once listening, and "stalled" when it starts holding.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time);

my ($port, $redis_sock, $mark, $stall) = @ARGV;
die "usage: redis_stall_proxy.pl PORT REDIS_SOCK MARK STALL\n" unless defined $stall;
$| = 1;
$SIG{PIPE} = 'IGNORE';
my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16,
	ReuseAddr => 1) or die "listen 127.0.0.1:$port: $!\n";
print "ready\n";

my $sel = IO::Select->new($listen);
my (%peer, %to_client, %held);    # fd pairs; the Redis side of each; data held for a client
my ($armed, $stall_until) = (1, 0);

sub close_pair {
	my ($s) = @_;
	my $p = $peer{$s} or return;
	for my $x ($s, $p) {
		$sel->remove($x);
		delete $peer{$x};
		delete $to_client{$x};
		delete $held{$x};
		close $x;
	}
}

while (1) {
	my $now = time;
	# Release what was held once the stall is over.
	if ($now >= $stall_until) {
		for my $c (grep { $held{$_} && length $held{$_} } keys %held) {
			my ($client) = grep { "$_" eq $c } values %peer;
			next unless $client;
			syswrite $client, $held{$c};
			$held{$c} = '';
		}
	}
	my @ready = $sel->can_read(0.01);
	for my $s (@ready) {
		if ($s == $listen) {
			my $client = $listen->accept or next;
			my $redis = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $redis_sock)
			    or do { close $client; next };
			$peer{$client} = $redis;
			$peer{$redis} = $client;
			$to_client{$redis} = 1;
			$sel->add($client, $redis);
			next;
		}
		my $n = sysread $s, my $buf, 65536;
		if (!$n) {
			close_pair($s);
			next;
		}
		my $p = $peer{$s};
		if (!$to_client{$s}) {
			syswrite $p, $buf;
			next;
		}
		if ($armed && index($buf, $mark) >= 0) {
			$armed = 0;
			$stall_until = time + $stall;
			print "stalled\n";
		}
		if (time < $stall_until || ($held{"$p"} // '') ne '') {
			$held{"$p"} .= $buf;
		} else {
			syswrite $p, $buf;
		}
	}
}
