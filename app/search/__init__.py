"""Search: a Japanese-first Whoosh index of public content (and, behind policies, staff content)."""
