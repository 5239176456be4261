"""A fixture corpus for the themes: answers to "Czym jest dla Ciebie wspólnota?" in Polish, Ukrainian and
English, written the way residents write (inflected, without diacritics, with the question's own word
and the common words the first themes were made of), with themes planted in known numbers."""

from __future__ import annotations

# Planted: "dom kultury" 9, "dom sąsiedzki" 8 (+3 uk, +2 en), "plac zabaw" 7 (+2 uk), "brak czasu" 6,
# "rada osiedla" 5, podwórko 8, festyn 6, senior 6, "ogródek społecznościowy" 4; and the noise of
# tam, siebie, więcej, razem, mniej, wiedzieć, ludzie and wspólnota in most answers.
POLISH = [
    "Wspólnota to dom kultury, do którego chodzimy razem z sąsiadami.",
    "Dla mnie wspólnota to zajęcia w domu kultury i ludzie, którzy tam przychodzą.",
    "Domy kultury powinny być otwarte dłużej, tam się spotykamy.",
    "W domu kultury na Bemowie poznałam więcej sąsiadów niż przez dziesięć lat w bloku.",
    "Wspólnota? Chór w domu kultury, śpiewamy razem co tydzień.",
    "Potrzebujemy domu kultury bliżej, bo do tego tam jest za daleko.",
    "Dom kultury organizuje warsztaty dla całych rodzin, to jest wspólnota.",
    "Moja wspólnota to koło szachowe w domu kultury.",
    "Razem w domu kultury robimy teatr dla dzieci z osiedla.",
    "Dom sąsiedzki, gdzie każdy może przyjść i wypić herbatę.",
    "Wspólnota to dom sąsiedzki na naszym osiedlu, tam się poznaliśmy.",
    "Brakuje domu sąsiedzkiego, gdzie ludzie mogliby się spotykać.",
    "W domu sąsiedzkim jest więcej życia niż w całym urzędzie.",
    "Chciałabym, żeby był dom sąsiedzki dla seniorów i młodych.",
    "Dom sasiedzki to miejsce, gdzie znamy siebie nawzajem.",
    "Otwarty dom sąsiedzki z kuchnią i biblioteczką.",
    "Wspólnota to dom sąsiedzki i ludzie, którzy o siebie dbają.",
    "Plac zabaw, na którym rodzice się poznają.",
    "Wspólnota zaczyna się na placu zabaw, tam rozmawiamy z innymi mamami.",
    "Nowy plac zabaw zrobił więcej dla sąsiadów niż wszystkie zebrania.",
    "Na placu zabaw dzieci bawią się razem, a my rozmawiamy.",
    "Plac do zabaw przy szkole to nasze miejsce spotkań.",
    "Remont placu zabaw zrobiliśmy sami, razem z sąsiadami.",
    "Placyk zabaw? Raczej plac zabaw, gdzie spotykamy się po pracy.",
    "Brak czasu, wszyscy pracują do późna i nikt nie wie, kto mieszka obok.",
    "Brak czasu to największy problem, nie wiem, jak to zmienić.",
    "Przez brak czasu rzadko widzę sąsiadów, mniej niż bym chciała.",
    "Wspólnota wymaga czasu, a brak czasu ją zabija.",
    "Ciągły brak czasu, praca i dojazdy.",
    "Brak czasu i zmęczenie, ludzie wolą siedzieć w domu.",
    "Rada osiedla, która słucha mieszkańców.",
    "Wspólnota to aktywna rada osiedla i zebrania raz w miesiącu.",
    "Rada osiedla organizuje sprzątanie i spotkania.",
    "Chodzę na posiedzenia rady osiedla, tam się dowiaduję, co się dzieje.",
    "Radzie osiedla zależy na tym, żebyśmy się znali.",
    "Zielone podwórko z ławkami, gdzie siedzą sąsiedzi.",
    "Wspólnota to nasze podwórko i rozmowy na ławce.",
    "Na podwórku wszyscy się znają, tam jest wspólnota.",
    "Podworko z drzewami i ławkami, więcej nie trzeba.",
    "Sprzątanie podwórka razem z sąsiadami raz w roku.",
    "Dzieci z podwórka i ich rodzice to moja wspólnota.",
    "Podwórko bez samochodów, żeby można było usiąść razem.",
    "Nasze podwórko jest małe, ale wszyscy o nie dbamy.",
    "Festyn na osiedlu, na który przychodzą wszyscy.",
    "Wspólnota to festyny, grill i muzyka na podwórku.",
    "Festyny sąsiedzkie raz w roku to za mało, chcemy więcej.",
    "Coroczny festyn z okazji Dnia Sąsiada.",
    "Na festynie poznałam sąsiadkę z trzeciego piętra.",
    "Festyny i pikniki, gdzie każdy coś przynosi.",
    "Seniorzy z naszej klatki, którym pomagamy z zakupami.",
    "Wspólnota to dbanie o seniorów, którzy mieszkają sami.",
    "Spotkania seniorów w klubie, tam mama chodzi codziennie.",
    "Seniorom trzeba pomóc, żeby nie byli samotni.",
    "Klub seniora i wolontariusze, którzy do nich zaglądają.",
    "Senior z parteru zna wszystkich, to on trzyma nas razem.",
    "Ogródek społecznościowy, gdzie sadzimy pomidory.",
    "Wspólnota to ogródek społecznościowy za blokiem.",
    "W ogródku społecznościowym spotykam sąsiadów z innych klatek.",
    "Ogródki społecznościowe łączą ludzi, więcej takich.",
    "Ludzie, którzy mówią sobie dzień dobry.",
    "Wspólnota to ludzie, nie wiem, co więcej powiedzieć.",
    "Razem możemy więcej.",
    "Siebie nawzajem szanujemy i to jest wspólnota.",
    "Mniej samochodów, więcej rozmów.",
    "Tam, gdzie mieszkam, nikt nikogo nie zna.",
    "Ludzie, którzy razem coś robią dla innych.",
    "Wspólnota to dla mnie sąsiedzi, którzy sobie pomagają.",
    "Sąsiedzi pożyczają sobie narzędzia i cukier.",
    "Wiedzieć, kto mieszka obok, i móc na niego liczyć.",
]

UKRAINIAN = [
    "Для мене громада – це сусіди, які допомагають одне одному.",
    "Сусідський дім, де можна зустрітися і поговорити.",
    "Нам потрібен сусідський дім для всіх мешканців.",
    "Спільнота – це сусідський дім і люди, які туди приходять.",
    "Дитячий майданчик, де батьки знайомляться.",
    "На дитячому майданчику я познайомилася з сусідками.",
    "Брак часу, всі працюють, але ми разом.",
    "Громада – це коли ти знаєш своїх сусідів.",
    "Сусіди, які приносять їжу, коли хтось хворіє.",
    "Свято на подвірʼї, де всі разом.",
]

ENGLISH = [
    "A neighbourhood house where anyone can drop in.",
    "We need a neighbourhood house with a kitchen for everyone.",
    "Neighbours who help each other with shopping.",
    "Community is knowing the people next door.",
    "A playground where parents meet.",
    "Neighbours who say hello in the staircase.",
]

# In every theme's top ten without a coding frame (lemmas or phrases, as `Theme.keywords[0]`).
EXPECTED_POLISH = ["dom kultura", "dom sąsiedzki", "plac zabawa", "brak czas", "rada osiedle", "podwórko", "festyn"]
# Never a theme: common words, the lemmatiser's old mistakes and the question's own word.
NEVER = ["tam", "siebie", "więcej", "raz", "razem", "mniej", "wiedzieć", "człowiek", "ludzie", "wspólnota", "osiedlać"]


def answers() -> list[tuple[str, str]]:
    """Every answer with the language its questionnaire was in (some Ukrainians answer in Polish)."""
    return [
        *((text, "pl") for text in POLISH),
        *((text, "uk") for text in UKRAINIAN),
        *((text, "en") for text in ENGLISH),
    ]
