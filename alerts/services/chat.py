"""Slack and Microsoft Teams incoming-webhook messages: the same facts as the signed JSON, laid out for people.

Slack: a `text` fallback (notifications, old clients) and Block Kit blocks. Teams: a message carrying one
Adaptive Card (1.4), the format Teams' incoming webhooks (Workflows) accept.
"""

from __future__ import annotations

from typing import Any

SLACK = "slack"
TEAMS = "teams"


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn reads &, < and > as markup; anything a detector wrote is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(*, title: str, text: str, url: str, facts: list[tuple[str, str]]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)[:3000]}})
    if facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_slack_escape(name)}*\n{_slack_escape(value)}"}
                    for name, value in facts[:10]
                ],
            }
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open in Wattwatch>"}]})
    return {"text": _slack_escape(title), "blocks": blocks}


def teams_message(*, title: str, text: str, url: str, facts: list[tuple[str, str]]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True}
    ]
    if text:
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    if facts:
        body.append({"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in facts]})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Wattwatch", "url": url}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def chat_message(*, style: str, title: str, text: str, url: str, facts: list[tuple[str, str]]) -> dict[str, Any]:
    """The message for a Slack or Teams rule (`style` is the rule's webhook_format)."""
    if style == SLACK:
        return slack_message(title=title, text=text, url=url, facts=facts)
    if style == TEAMS:
        return teams_message(title=title, text=text, url=url, facts=facts)
    raise ValueError(f"no chat layout for webhook format {style!r}")
