"""fer-bench's encoder zoo (installed as ``fer_bench.encoders``): one module per encoder,
each registering itself with ``@register_encoder``."""
