"""LangChain integration for tool-capable models: a catalog retriever and a `recommend` tool."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from langchain.tools import ToolRuntime
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, tool
from pydantic import ConfigDict

from interest_bot.memory.userid import validate_user_id

if TYPE_CHECKING:
    from .plugin import InterestPlugin


class InterestRetriever(BaseRetriever):
    """Catalog items as Documents, ranked by cosine between the query and the item text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    plugin: Any  # an InterestPlugin; pydantic resolves field types at run time, and plugin.py imports this module
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """Embed the query with the plugin's encoder and search its catalog."""
        k = self.k if k is None else k
        if k <= 0:
            return []
        vector = self.plugin.classifier.encoder.encode([query or " "])
        hits = self.plugin.catalog.search(vector, k=k)[0]
        catalog = self.plugin.catalog
        items = {catalog.qualify(item.id): item for item in catalog.get([qid for qid, _ in hits])}
        docs = []
        for qid, score in hits:
            item = items[qid]
            meta = {"item_id": qid, "title": item.title, "categories": list(item.categories), "score": float(score)}
            docs.append(Document(page_content=item.text, id=qid, metadata=meta))
        return docs


def recommend_tool(plugin: InterestPlugin) -> BaseTool:
    """A `recommend` tool that reads the user id from the agent's runtime context."""
    @tool("recommend")
    # LangChain injects the runtime, recognised by this annotation; the None default keeps the tool callable without one.
    def recommend(k: int = 5, runtime: ToolRuntime = None) -> str:  # type: ignore[assignment]  # see above
        """Recommend catalog items for the current user, with the reason for each, as JSON."""
        # The context is the host's: an InterestContext-like object or a dict (or none at all), hence the probing.
        context = getattr(runtime, "context", None)
        user_id = getattr(context, "user_id", None) or (context or {}).get("user_id")
        # Validated here (plugin.recommend would raise the same InvalidUserIdError a step later): no id, or not a string.
        recs = plugin.recommend(validate_user_id(user_id), k=max(1, min(int(k), 20)))
        return json.dumps([{"title": r.title, "categories": r.categories, "reasons": r.reasons} for r in recs])

    return recommend
