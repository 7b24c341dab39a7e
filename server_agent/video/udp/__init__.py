"""UDP/RTP reception: unicast and multicast (ASM, IGMPv3 SSM), DSCP per datagram, inter-arrival
and RFC 4445 MDI, RTP sequence analysis, ST 2022-7 dual legs, and ``stream-check``."""
