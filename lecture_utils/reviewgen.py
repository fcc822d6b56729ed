"""Film reviews written from templates: the generator behind the bundled review dataset.

Invented films and people; opinions about the story, acting, direction and so on. The output
depends only on the seed. `scripts/generate_reviews.py` writes the bundled dataset with it;
the stand-ins use a fresh sample (another seed) as their "pre-training" text.
"""

from __future__ import annotations

import random

SEED = 1111
SPLIT_SIZES = {"train": 1000, "test": 1000, "unsupervised": 400}

FIRST_NAMES = [
    "Anna", "Marco", "Lena", "Victor", "Grace", "Tomas", "Irene", "Felix", "Nadia", "Oscar",
    "Clara", "Hugo", "Maya", "Ruben", "Sofia", "Pavel", "Elise", "Jonah", "Leila", "Dmitri",
]
LAST_NAMES = [
    "Harlow", "Benedetti", "Okafor", "Lindqvist", "Marsh", "Castellano", "Novak", "Whitfield",
    "Duarte", "Kowalski", "Ashby", "Moreau", "Tanaka", "Reyes", "Holloway", "Brandt",
]
TITLE_WORDS_A = [
    "The Last", "Midnight", "A Quiet", "The Silver", "Broken", "The Long", "Winter", "The Hidden",
    "Paper", "The Burning", "Northern", "The Glass", "Distant", "The Iron", "Summer",
]
TITLE_WORDS_B = [
    "Lighthouse", "Harbor", "Garden", "Railway", "Kingdom", "Promise", "Orchard", "Frontier",
    "Letters", "Carnival", "River", "Station", "Mirror", "Valley", "Symphony",
]
GENRES = [
    "thriller", "comedy", "drama", "western", "horror film", "romance", "war film",
    "science fiction film", "musical", "crime story", "family film", "mystery",
]
ROLES = ["detective", "teacher", "soldier", "widow", "pilot", "farmer", "journalist", "singer",
         "doctor", "thief", "captain", "student", "painter", "lawyer"]
PLACES = ["a small fishing town", "a crowded city", "an old mining village", "a remote island",
          "a snowy mountain pass", "a run-down hotel", "a travelling circus", "a border town"]
EVENTS = ["a stranger arrives", "a letter goes missing", "a storm cuts the town off",
          "an old crime resurfaces", "a wedding goes wrong", "a factory closes",
          "a child disappears", "a fortune is found"]

# Opinions by aspect. {actor}, {director}, {title}, {genre} are filled in per review.
POSITIVE = {
    "story": [
        "The story is clever and keeps surprising you until the very end.",
        "The plot is tight, moving and never predictable.",
        "It tells a simple story with real heart and honesty.",
        "The script is smart, funny and surprisingly touching.",
        "Every twist feels earned and the mystery is beautifully built.",
    ],
    "acting": [
        "{actor} gives a wonderful performance, warm and completely believable.",
        "The acting is superb across the whole cast.",
        "{actor} is brilliant in the lead and steals every scene.",
        "The performances are natural, subtle and deeply moving.",
        "Even the small roles are played with great care and charm.",
    ],
    "direction": [
        "{director} directs with confidence and a wonderful eye for detail.",
        "The direction is assured and the pacing is perfect.",
        "{director} clearly loves these characters, and it shows in every frame.",
        "It is beautifully directed, with not a single wasted scene.",
    ],
    "visuals": [
        "The cinematography is gorgeous; some shots look like paintings.",
        "It looks stunning, with rich colours and lovely locations.",
        "The photography is breathtaking, especially the night scenes.",
    ],
    "music": [
        "The score is beautiful and lifts the emotional moments.",
        "The music is memorable and fits the mood perfectly.",
        "I have been humming the soundtrack all week.",
    ],
    "dialogue": [
        "The dialogue is sharp, witty and often laugh-out-loud funny.",
        "The characters talk like real people, which is rare and refreshing.",
    ],
    "feeling": [
        "I laughed, I cried, and I loved every minute of it.",
        "It is a joy to watch and I was smiling long after it ended.",
        "This is one of the best films I have seen in years.",
        "It is an excellent, heartfelt and unforgettable experience.",
        "What a fantastic, delightful surprise this was.",
        "I was hooked from the first scene and never bored.",
    ],
}
NEGATIVE = {
    "story": [
        "The story is a mess and makes no sense at all.",
        "The plot is predictable, silly and painfully slow.",
        "The script is lazy and full of holes you could drive a truck through.",
        "Nothing in the story is believable, and the twist is obvious from the start.",
        "The plot goes nowhere and the ending is a cheap cheat.",
    ],
    "acting": [
        "{actor} gives a wooden, lifeless performance.",
        "The acting is terrible; nobody seems to care what they are saying.",
        "{actor} is badly miscast and looks bored in every scene.",
        "The performances are stiff, awkward and completely unconvincing.",
        "Even good actors cannot save these awful characters.",
    ],
    "direction": [
        "{director} directs as if nobody had read the script.",
        "The direction is clumsy and the pacing is a disaster.",
        "{director} drags every scene out far too long.",
        "It is poorly directed, with scenes that go on and on for no reason.",
    ],
    "visuals": [
        "The cinematography is ugly and the whole thing looks cheap.",
        "It is so dark and blurry that half the time you cannot see anything.",
        "The special effects are laughable and badly dated.",
    ],
    "music": [
        "The music is loud, annoying and never stops.",
        "The score is forgettable and often drowns out the dialogue.",
        "The soundtrack is irritating and completely wrong for the mood.",
    ],
    "dialogue": [
        "The dialogue is stupid and painful to listen to.",
        "The characters speak in clumsy speeches that no person would ever say.",
    ],
    "feeling": [
        "I was bored out of my mind and nearly walked out.",
        "This is one of the worst films I have ever seen.",
        "It is a dull, pointless and forgettable waste of time.",
        "What a terrible, disappointing mess this was.",
        "I kept checking my watch and waiting for it to end.",
        "Save your money and avoid this one.",
    ],
}
OPENINGS = [
    "I watched {title} last night with a few friends.",
    "I went to see {title} without knowing anything about it.",
    "{title} is a {genre} by {director}, starring {actor}.",
    "I rented {title} because I like {genre}s.",
    "After all the talk about {title}, I finally saw it.",
    "My sister recommended {title}, so I gave it a try.",
    "I caught {title} on television late one evening.",
    "I have been waiting for {title} for months.",
]
PLOT = [
    "{actor} plays a {role} living in {place}, where {event}.",
    "The film follows a {role} in {place} after {event}.",
    "It is set in {place}, and it begins when {event}.",
    "{actor} stars as a {role} who has to deal with what happens when {event}.",
]
NEUTRAL = [
    "It runs for about two hours.",
    "It was shot on location over one summer.",
    "The film is based on a novel that I have not read.",
    "There is a long flashback in the middle.",
    "Most of the story takes place over a single weekend.",
    "(Spoilers ahead, so stop reading here if you have not seen it.)",
    "The second half moves to a different town.",
    "There are a lot of characters to keep track of.",
]
TURNS = ["That said,", "Still,", "On the other hand,", "To be fair,", "However,"]
VERDICTS_POS = [
    "Highly recommended.", "I would gladly watch it again.", "{score}/10.",
    "Go and see it!", "A small masterpiece.", "Do not miss it.",
]
VERDICTS_NEG = [
    "Not recommended.", "I would not watch it again.", "{score}/10.",
    "Avoid it.", "A complete waste of time.", "Skip this one.",
]
SHORT_POS = [
    "Loved {title}! {actor} is wonderful and the story is great.",
    "{title} is a beautiful, funny and moving {genre}. {score}/10.",
    "Brilliant from start to finish. {actor} has never been better. Highly recommended.",
    "What a lovely surprise {title} was. {director} got everything right.",
]
SHORT_NEG = [
    "Terrible. {title} has a boring plot and awful acting. {score}/10.",
    "What a waste of time. {title} is the worst {genre} of the year.",
    "Dull, silly and far too long. Even {actor} cannot save it. Avoid it.",
    "{director} should be ashamed of {title}. {score}/10.",
]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _shout(rng: random.Random, sentence: str) -> str:
    """Write one word of a sentence in capitals, as some reviewers do."""
    words = sentence.split()
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return sentence
    i = rng.choice(candidates)
    words[i] = words[i].upper()
    return " ".join(words)


def _num_sentences(rng: random.Random) -> int:
    """Review length in sentences: most reviews are medium, a long tail is very long."""
    return max(4, min(70, round(rng.lognormvariate(2.65, 0.7))))


def write_review(rng: random.Random, positive: bool) -> str:
    """Write one review whose overall opinion is positive or negative."""
    fill = {
        "title": f"{rng.choice(TITLE_WORDS_A)} {rng.choice(TITLE_WORDS_B)}",
        "genre": rng.choice(GENRES),
        "actor": _person(rng),
        "director": _person(rng),
        "role": rng.choice(ROLES),
        "place": rng.choice(PLACES),
        "event": rng.choice(EVENTS),
        "score": rng.choice([8, 9, 10]) if positive else rng.choice([1, 2, 3]),
    }
    if rng.random() < 0.06:  # a few very short reviews
        text = rng.choice(SHORT_POS if positive else SHORT_NEG)
        return text.format(**fill)

    main, other = (POSITIVE, NEGATIVE) if positive else (NEGATIVE, POSITIVE)
    # How mixed the review is: share of sentences that disagree with the verdict.
    mixed = rng.choice([0.0, 0.0, 0.1, 0.15, 0.25])
    sentences = [rng.choice(OPENINGS), rng.choice(PLOT)]
    # Reviewers lead with their main opinion; doubts and asides come later.
    sentences.append(rng.choice(main[rng.choice(sorted(main))]))
    for _ in range(_num_sentences(rng)):
        r = rng.random()
        if r < 0.15:
            sentences.append(rng.choice(NEUTRAL))
        elif r < 0.15 + mixed:
            aspect = rng.choice(sorted(other))
            sentence = rng.choice(other[aspect])
            sentences.append(f"{rng.choice(TURNS)} {sentence[0].lower()}{sentence[1:]}")
        else:
            aspect = rng.choice(sorted(main))
            sentence = rng.choice(main[aspect])
            if rng.random() < 0.05:
                sentence = _shout(rng, sentence)
            sentences.append(sentence)
    sentences.append(rng.choice(VERDICTS_POS if positive else VERDICTS_NEG))
    sentences = [s.format(**fill) for s in sentences]

    # Group sentences into paragraphs joined by IMDB's <br /><br /> tags.
    paragraphs, current = [], []
    for s in sentences:
        current.append(s)
        if len(current) >= 3 and rng.random() < 0.3:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "<br /><br />".join(paragraphs)


def generate(seed: int = SEED, sizes: dict[str, int] | None = None) -> dict[str, dict[str, list]]:
    """Return {split: {"text": [...], "label": [...]}} for all splits, deterministically."""
    sizes = sizes or SPLIT_SIZES
    rng = random.Random(seed)
    splits = {}
    for split, n in sizes.items():
        if split == "unsupervised":
            labels = [-1] * n
            texts = [write_review(rng, rng.random() < 0.5) for _ in range(n)]
        else:
            # Like IMDB: half negative, half positive, sorted by label.
            labels = [0] * (n // 2) + [1] * (n - n // 2)
            texts = [write_review(rng, label == 1) for label in labels]
        splits[split] = {"text": texts, "label": labels}
    return splits
