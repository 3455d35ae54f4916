"""The service record: what visits did and asked for (services, supplies, referrals, support), its registers and the decisions about it."""
