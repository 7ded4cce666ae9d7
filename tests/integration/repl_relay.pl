# repl_relay.pl: a loopback TCP relay (perl-base only) that a test puts on
# a replica's link to its primary, to cut replication when it wants: on
# SIGUSR1 it stops moving bytes either way (it neither reads nor writes:
# the primary's replication stream stays in its buffers, the replica's
# acknowledgements never arrive), as a network partition would. A SIGKILL
# then loses whatever was in flight.
#
#   perl repl_relay.pl PORT TARGET_PORT
# Prints "ready" once listening on 127.0.0.1:PORT, "frozen" on SIGUSR1.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;

my ($port, $target) = @ARGV;
die "usage: repl_relay.pl PORT TARGET_PORT\n" unless defined $target;
$| = 1;
$SIG{PIPE} = 'IGNORE';
my $frozen = 0;
$SIG{USR1} = sub { $frozen = 1 };
my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16,
	ReuseAddr => 1) or die "listen 127.0.0.1:$port: $!\n";
print "ready\n";

my $sel = IO::Select->new($listen);
my %peer;
my $said = 0;

sub close_pair {
	my ($s) = @_;
	my $p = $peer{$s} or return;
	for my $x ($s, $p) {
		$sel->remove($x);
		delete $peer{$x};
		close $x;
	}
}

while (1) {
	if ($frozen) {
		print "frozen\n" unless $said++;
		select undef, undef, undef, 0.05;
		next;
	}
	for my $s ($sel->can_read(0.05)) {
		last if $frozen;
		if ($s == $listen) {
			my $in = $listen->accept or next;
			my $out = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $target)
			    or do { close $in; next };
			$peer{$in} = $out;
			$peer{$out} = $in;
			$sel->add($in, $out);
			next;
		}
		my $n = sysread $s, my $buf, 65536;
		if (!$n) {
			close_pair($s);
			next;
		}
		my $p = $peer{$s} or next;
		my $off = 0;
		while ($off < length $buf) {
			my $w = syswrite $p, $buf, length($buf) - $off, $off;
			last unless defined $w;
			$off += $w;
		}
	}
}
