"""Register entries made on the web by a village cadre or the town office: corrections, tiers, new members."""
