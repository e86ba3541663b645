"""Categories that group a project's issues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from feedback_service.database import unit_of_work
from feedback_service.errors import CategoryNameDuplicated, CategoryNameInvalid, CategoryNotFound
from feedback_service.models import Category
from feedback_service.repositories import categories as repo
from feedback_service.repositories.pagination import Page
from feedback_service.repositories.project_names import name_taken
from feedback_service.repositories.text_match import contains_ignoring_case
from feedback_service.services.query_parsing import sort_order

SORT_COLUMNS = {"id": Category.id, "name": Category.name}


def create_category(project_id: int, name: str) -> Category:
    """:raises CategoryNameDuplicated:"""
    try:
        with unit_of_work(write=True) as session:
            if name_taken(session, Category, project_id, name):
                raise CategoryNameDuplicated()
            category = Category(project_id=project_id, name=name)
            session.add(category)
    except IntegrityError:
        raise CategoryNameDuplicated() from None
    return category


def list_categories(
    project_id: int, name_contains: str | None, sort: Any, page: int, limit: int
) -> Page[Category]:
    """Categories whose name contains ``name_contains`` (case-insensitive), paginated."""
    conditions = []
    if name_contains:
        conditions.append(contains_ignoring_case(Category.name, name_contains))
    order = sort_order(sort, SORT_COLUMNS)
    with unit_of_work(write=False) as session:
        return repo.list_categories(session, project_id, conditions, order, page, limit)


def rename_category(project_id: int, category_id: int, name: str) -> None:
    """:raises CategoryNotFound: :raises CategoryNameInvalid: the name is taken."""
    try:
        with unit_of_work(write=True) as session:
            category = repo.get_category(session, project_id, category_id)
            if category is None:
                raise CategoryNotFound()
            if name_taken(session, Category, project_id, name, except_id=category_id):
                raise CategoryNameInvalid()
            category.name = name
    except IntegrityError:
        raise CategoryNameInvalid() from None


def delete_category(project_id: int, category_id: int) -> None:
    """Delete a category; its issues stay, without a category. :raises CategoryNotFound:"""
    with unit_of_work(write=True) as session:
        category = repo.get_category(session, project_id, category_id)
        if category is None:
            raise CategoryNotFound()
        session.delete(category)


@dataclass(frozen=True)
class CategoryUsage:
    category: Category
    issue_count: int


def all_categories(project_id: int) -> list[Category]:
    """Every category of the project, by name (for pickers: a project has a handful)."""
    with unit_of_work(write=False) as session:
        return repo.all_categories(session, project_id)


def categories_with_issue_counts(project_id: int) -> list[CategoryUsage]:
    """Every category of the project by name, with how many issues it holds."""
    with unit_of_work(write=False) as session:
        rows = repo.categories_with_issue_counts(session, project_id)
    return [CategoryUsage(category, count) for category, count in rows]
