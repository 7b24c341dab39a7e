"""SRT monitoring (docs/srt.md): libsrt binding, connections, figures, advisor, device drivers."""
