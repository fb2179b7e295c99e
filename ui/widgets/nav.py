"""The lesson pages, in teaching order, with their titles in every language.

``app.py`` builds ``st.navigation`` from this list; tests walk it to check that every page has
its lesson text and runs.
"""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = {
    "start": {"en": "Start", "ru": "Начало"},
    "cnn": {"en": "CNN", "ru": "Свёрточная сеть"},
    "transformer": {"en": "Transformer", "ru": "Трансформер"},
    "embeddings": {"en": "Embeddings", "ru": "Эмбеддинги"},
    "training": {"en": "Train it yourself", "ru": "Обучите сами"},
    "why": {"en": "Why?", "ru": "Почему?"},
    "classroom": {"en": "Class", "ru": "Класс"},
}


@dataclass(frozen=True)
class PageInfo:
    id: str  # also the lesson file name in lessons/<lang>/<id>.md
    section: str
    file: str
    icon: str
    title: dict[str, str]


PAGES: tuple[PageInfo, ...] = (
    PageInfo(
        "start", "start", "pages/start.py", ":material/home:", {"en": "Welcome", "ru": "Добро пожаловать"}
    ),
    PageInfo(
        "glossary",
        "start",
        "pages/glossary.py",
        ":material/menu_book:",
        {"en": "Glossary", "ru": "Глоссарий"},
    ),
    PageInfo(
        "cnn_tensor",
        "cnn",
        "pages/cnn_tensor.py",
        ":material/image:",
        {"en": "1 · Photo → tensor", "ru": "1 · Фото → тензор"},
    ),
    PageInfo(
        "cnn_convolution",
        "cnn",
        "pages/cnn_convolution.py",
        ":material/grid_on:",
        {"en": "2 · Convolution", "ru": "2 · Свёртка"},
    ),
    PageInfo(
        "cnn_relu",
        "cnn",
        "pages/cnn_relu.py",
        ":material/show_chart:",
        {"en": "3 · ReLU", "ru": "3 · ReLU"},
    ),
    PageInfo(
        "cnn_pooling",
        "cnn",
        "pages/cnn_pooling.py",
        ":material/compress:",
        {"en": "4 · Pooling", "ru": "4 · Пулинг"},
    ),
    PageInfo(
        "cnn_deeper",
        "cnn",
        "pages/cnn_deeper.py",
        ":material/layers:",
        {"en": "5 · Going deeper", "ru": "5 · Вглубь сети"},
    ),
    PageInfo(
        "cnn_embedding",
        "cnn",
        "pages/cnn_embedding.py",
        ":material/linear_scale:",
        {"en": "6 · GAP → the embedding", "ru": "6 · GAP → эмбеддинг"},
    ),
    PageInfo(
        "tr_patches",
        "transformer",
        "pages/tr_patches.py",
        ":material/apps:",
        {"en": "1 · Patches", "ru": "1 · Патчи"},
    ),
    PageInfo(
        "tr_tokens",
        "transformer",
        "pages/tr_tokens.py",
        ":material/view_week:",
        {"en": "2 · CLS token and positions", "ru": "2 · CLS-токен и позиции"},
    ),
    PageInfo(
        "tr_attention",
        "transformer",
        "pages/tr_attention.py",
        ":material/visibility:",
        {"en": "3 · Attention", "ru": "3 · Внимание"},
    ),
    PageInfo(
        "tr_block",
        "transformer",
        "pages/tr_block.py",
        ":material/view_agenda:",
        {"en": "4 · Inside a block", "ru": "4 · Внутри блока"},
    ),
    PageInfo(
        "tr_clip",
        "transformer",
        "pages/tr_clip.py",
        ":material/join_inner:",
        {"en": "5 · CLIP's image towers", "ru": "5 · Визуальные башни CLIP"},
    ),
    PageInfo(
        "tr_compare",
        "transformer",
        "pages/tr_compare.py",
        ":material/compare:",
        {"en": "6 · CNN vs ViT", "ru": "6 · CNN против ViT"},
    ),
    # -- the embeddings section's pages follow (owned by the embedding lab) --
    PageInfo(
        "emb_gallery",
        "embeddings",
        "pages/emb_gallery.py",
        ":material/photo_library:",
        {"en": "1 · Your gallery", "ru": "1 · Ваша галерея"},
    ),
    PageInfo(
        "emb_map",
        "embeddings",
        "pages/emb_map.py",
        ":material/scatter_plot:",
        {"en": "2 · The map", "ru": "2 · Карта"},
    ),
    PageInfo(
        "emb_similar",
        "embeddings",
        "pages/emb_similar.py",
        ":material/image_search:",
        {"en": "3 · Similar photos", "ru": "3 · Похожие фото"},
    ),
    PageInfo(
        "emb_clusters",
        "embeddings",
        "pages/emb_clusters.py",
        ":material/bubble_chart:",
        {"en": "4 · Clusters", "ru": "4 · Кластеры"},
    ),
    PageInfo(
        "emb_probe",
        "embeddings",
        "pages/emb_probe.py",
        ":material/rule:",
        {"en": "5 · A linear probe", "ru": "5 · Линейный классификатор"},
    ),
    PageInfo(
        "emb_outliers",
        "embeddings",
        "pages/emb_outliers.py",
        ":material/crisis_alert:",
        {"en": "6 · Outliers", "ru": "6 · Аномалии"},
    ),
    PageInfo(
        "emb_compare",
        "embeddings",
        "pages/emb_compare.py",
        ":material/compare_arrows:",
        {"en": "7 · Encoders compared", "ru": "7 · Энкодеры рядом"},
    ),
    # -- train it yourself: a pocket CNN and a tiny ViT trained live on handwritten digits --
    PageInfo(
        "train_encoder",
        "training",
        "pages/train_encoder.py",
        ":material/model_training:",
        {"en": "1 · Train an encoder", "ru": "1 · Обучите энкодер"},
    ),
    PageInfo(
        "train_objectives",
        "training",
        "pages/train_objectives.py",
        ":material/join:",
        {"en": "2 · Three objectives", "ru": "2 · Три цели обучения"},
    ),
    # -- why: what in the photo made the encoder answer as it did (issue 12) --
    PageInfo(
        "why_prediction",
        "why",
        "pages/why_prediction.py",
        ":material/target:",
        {"en": "1 · Why this prediction", "ru": "1 · Почему такой ответ"},
    ),
    PageInfo(
        "why_channel",
        "why",
        "pages/why_channel.py",
        ":material/filter_center_focus:",
        {"en": "2 · What a channel looks for", "ru": "2 · Что ищет канал"},
    ),
    PageInfo(
        "why_perturb",
        "why",
        "pages/why_perturb.py",
        ":material/tune:",
        {"en": "3 · Perturbation lab", "ru": "3 · Лаборатория искажений"},
    ),
    PageInfo(
        "why_alike",
        "why",
        "pages/why_alike.py",
        ":material/join_left:",
        {"en": "4 · Why these two look alike", "ru": "4 · Почему они похожи"},
    ),
    PageInfo(
        "why_layers",
        "why",
        "pages/why_layers.py",
        ":material/stacked_line_chart:",
        {"en": "5 · Layer by layer", "ru": "5 · Слой за слоем"},
    ),
    # -- class: one map of the whole class's photos, live (issue 14) --
    PageInfo(
        "class_teacher",
        "classroom",
        "pages/class_teacher.py",
        ":material/co_present:",
        {"en": "1 · Run a class", "ru": "1 · Провести занятие"},
    ),
    PageInfo(
        "class_map",
        "classroom",
        "pages/class_map.py",
        ":material/groups:",
        {"en": "2 · Class map", "ru": "2 · Карта класса"},
    ),
)


def page(page_id: str) -> PageInfo:
    for p in PAGES:
        if p.id == page_id:
            return p
    raise KeyError(page_id)
