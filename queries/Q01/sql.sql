-- point.parent_id is the isPointOf target (denormalised, indexed)
SELECT p.id, p.class FROM point p WHERE p.parent_id = %(equipment)s
