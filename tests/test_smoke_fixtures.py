def test_world_builds_two_projects(world, sql):
    assert world.a.project_id != world.b.project_id
    assert sql("SELECT count(*) FROM feedback") == [(4,)]
