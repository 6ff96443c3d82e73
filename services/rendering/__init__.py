"""rendering: owns the public static site, its read model of live articles, feeds and sitemaps."""
