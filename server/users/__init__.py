"""People who use taizhang: collectors, village cadres, town officers, county admins, and their credentials."""
