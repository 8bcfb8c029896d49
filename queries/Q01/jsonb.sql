-- reverse hop by containment, served by the GIN jsonb_path_ops index
SELECT n.id, n.class FROM nodes n
WHERE n.props @> jsonb_build_object('isPointOf', jsonb_build_array(%(equipment)s::int))
