"""Add interest capture and recommendations to a plain LangChain agent (core install only)."""
import sys

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from interest_bot.plugins.interest import InterestContext, InterestMiddleware, InterestPlugin

plugin = InterestPlugin.open(data_dir=sys.argv[1] if len(sys.argv) > 1 else "./data")
model = GenericFakeChatModel(messages=iter(["Happy to help!", "Here are some ideas."]))  # your own chat model here
agent = create_agent(model, middleware=[InterestMiddleware(plugin)], context_schema=InterestContext)
for text in ["I love heist movies and westerns", "what should I watch?"]:
    state = agent.invoke({"messages": [("user", text)]}, context=InterestContext(user_id="example-user"))
    print(state["messages"][-1].text, "\n")
