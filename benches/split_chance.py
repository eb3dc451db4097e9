#!/usr/bin/env python3
"""How often runs of short messages make a term by chance: seeded WeCom
chat where many messages are short replies (`好的`, `收到`, `👍`), some of
them halves of listed terms (`内部`, `消息`, `客户`, `名单`), scanned with
the bundled lists with and without looking for terms split across messages.

Prints one JSON line: messages, short ones, alerts each way, and every term
found across messages with how often (each is a listed term that one
sender's short messages spelled within a minute; whether that is chance or
intent is what the alert asks an analyst to look at).

    cargo build --release --bin wordwarden
    python3 benches/split_chance.py [--messages 400000] [--binary PATH]
"""

import argparse
import collections
import json
import os
import random
import subprocess
import tempfile

REPLIES = (
    "好的 收到 嗯 嗯嗯 ok OK 好 行 可以 在吗 在 谢谢 谢了 对 对的 是的 没问题 明白 了解 辛苦 "
    "辛苦了 哈哈 哈哈哈 👍 🙏 😂 ？ ? 1 2 3 嗯？ 好吧 稍等 马上 来了 到了 在路上 等下 不用 "
    "不是 是 没 没有 有 要 不要 可 行吧 知道了 OK的 好滴 噢 哦 啊 额 是吗 真的 牛 厉害 赞 666 "
    "888 早 早上好 晚安 拜拜 再见 发我 看下 看看 回头说 开会 下班 吃饭 走了 在忙 忙 等等 稍后 "
    "明天 今天 周一 下周 上午 下午 晚上 几点 多少 多少钱 价格 报价 底价 合同 发票 付款 转账 "
    "账号 卡号 密码 验证码 客户 名单 内部 消息 老板 领导 股票 涨停 跌停 买 卖 加仓 减仓 清仓"
).split()

LONGER = [
    "今天下午三点在会议室开会讨论一下明年的预算方案",
    "这个项目下周一之前要交给客户确认",
    "报销单我已经提交了麻烦审批一下",
    "周五团建大家记得报名",
    "文件我发到群里了大家看一下",
    "这个价格客户那边还在考虑",
    "明天出差去上海，周三回来",
    "合同的条款法务还在审",
    "麻烦把上个月的报表发我一份",
    "系统今晚十点升级，请提前保存",
]


def chat(path, messages, seed):
    """300 senders, each in their team's group chat or writing to one
    colleague; 40% of messages short replies; 50-400 ms apart overall."""
    rng = random.Random(seed)
    users = [f"user{i:03d}" for i in range(300)]
    at = 1_764_000_000_000
    short = 0
    with open(path, "w", encoding="utf-8") as out:
        for i in range(messages):
            sender = rng.choice(users)
            room = f"wrTeam{int(sender[4:]) % 40:02d}" if rng.random() < 0.5 else ""
            if rng.random() < 0.4:
                text = rng.choice(REPLIES)
                short += 1
            else:
                text = rng.choice(LONGER)
            at += rng.randint(50, 400)
            record = {
                "msgid": f"m{i}", "action": "send", "from": sender,
                "tolist": [rng.choice(users)], "roomid": room, "msgtime": at,
                "msgtype": "text", "text": {"content": text},
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return short


def scan(binary, wordlists, path, *flags):
    run = subprocess.run(
        [binary, "scan", "--wordlists", wordlists, "--input-format", "wecom", *flags, path],
        capture_output=True, text=True, check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"scan failed ({run.returncode}): {run.stderr[-2000:]}")
    return [json.loads(line) for line in run.stdout.splitlines()]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--binary", default=os.path.join(root, "target/release/wordwarden"))
    parser.add_argument("--wordlists", default=os.path.join(root, "wordlists"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chat.jsonl")
        short = chat(path, args.messages, args.seed)
        alone = scan(args.binary, args.wordlists, path, "--no-split")
        split = scan(args.binary, args.wordlists, path)
    found = collections.Counter(
        h["term"]
        for a in split
        for h in a["hits"]
        if h.get("field") == "#split"
    )
    print(json.dumps({
        "messages": args.messages,
        "short": short,
        "alerts_each_alone": len(alone),
        "alerts_with_split": len(split),
        "split_hits": dict(found.most_common()),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
