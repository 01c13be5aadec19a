"""Users, roles, bureaus (局), startup organizations and their members."""
