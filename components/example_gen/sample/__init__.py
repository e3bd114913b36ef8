"""The synthetic embedded sample: traffic signs rendered with PIL (sign_rendering), CURE-TSR's
challenges applied to them (challenge_effects), in one mix per span (deliveries), written in the
CURE-TSR layout (render)."""
from components.example_gen.sample.render import render_sample
from components.example_gen.sample.render import render_span
