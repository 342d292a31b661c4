"""Fictional story texts and appeal wording for the demo publishers.

Everything here is invented for this project. Dates are not stored: each story carries a day offset
and a UTC time of day, and `site.build_site` turns them into datetimes relative to the anchor day.
No paragraph may repeat across stories, because a later pipeline stage treats cross-article
repeats as boilerplate (`tests/test_demo_site.py` checks this).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Story:
    publisher: str
    slug: str
    section: str
    title: str
    author: str
    summary: str
    day_offset: int  # days before the anchor day (0 = anchor day)
    time: str  # "HH:MM", UTC
    paragraphs: tuple[str, ...]
    updated_after_min: int = 0  # >0: the story was edited this many minutes after publication
    # indexes of paragraphs that mention donations/newsletters as news; a cleaner must keep them
    mentions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Appeals:
    """Visible wording of the four appeal kinds for one publisher."""

    donation_heading: str
    donation_paragraphs: tuple[str, ...]  # starts with "Dear readers,"
    inline_variants: tuple[tuple[str, str, str], ...]  # (bold lead, body, link text)
    newsletter: tuple[str, str, str, str, str]  # heading, blurb, field label, button, small print
    membership: tuple[str, str, str]  # heading, body, call to action
    donation_cta: str = "Support us"
    donation_dismiss: str = "Remind me later."
    cookie_text: str = ""

    def inline_text(self, variant: int) -> str:
        return " ".join(self.inline_variants[variant % len(self.inline_variants)])

    def lines(self, variant: int) -> list[str]:
        """Visible text of every appeal on an article page, one string per paragraph/line."""
        return [
            self.inline_text(variant),
            self.donation_heading,
            *self.donation_paragraphs,
            self.donation_cta,
            self.donation_dismiss,
            *self.newsletter,
            *self.membership,
        ]


APPEALS: dict[str, Appeals] = {
    "millbrook": Appeals(
        donation_heading="A Message from The Millbrook Courier:",
        donation_paragraphs=(
            "Dear readers,",
            "Local newsrooms across the Tamsin Valley have closed one after another, and the ones that "
            "remain are stretched thinner every year. The Courier is still here, but only just.",
            "We, the reporters and editors of The Millbrook Courier, believe this town deserves someone "
            "at every council meeting and every school board session. But to keep showing up, we need "
            "your help.",
            "Your support, however small, keeps a reporter on the beat. If you can, please support us "
            "monthly starting from just $3. It takes a minute to set up, and every contribution goes "
            "straight into local reporting.",
            "By supporting the Courier, you're keeping independent community journalism alive in "
            "Millbrook. Thank you for standing with us.",
        ),
        inline_variants=(
            (
                "Support independent journalism.",
                "The Courier is funded by readers like you, not by billionaires or big advertisers.",
                "Donate today.",
            ),
            (
                "Local news isn't free to make.",
                "If you value stories like this one, please chip in what you can.",
                "Give to the Courier.",
            ),
        ),
        newsletter=(
            "Sign up for our morning newsletter",
            "Courier Daybreak brings Millbrook's top stories to your inbox before 7 a.m., Monday to "
            "Saturday.",
            "Email address",
            "Subscribe",
            "You can unsubscribe at any time. We never share your address.",
        ),
        membership=(
            "Become a member",
            "Members get ad-free reading, the Sunday crossword and invitations to newsroom open evenings.",
            "Join for $5 a month",
        ),
        cookie_text="We use cookies to keep you signed in, measure traffic and show relevant ads. You "
        "can change your choice at any time.",
    ),
    "eastmere": Appeals(
        donation_heading="A Message from Eastmere Ledger:",
        donation_paragraphs=(
            "Dear readers,",
            "These are difficult times for local journalism. Printing costs have doubled, advertising "
            "has moved online and three neighbouring titles have closed since 2019.",
            "We, the journalists of the Eastmere Ledger, refuse to let the county go unreported. But to "
            "continue our work, we need your help.",
            "Your support, no matter how small, makes a real difference. If you can, please support us "
            "monthly starting from just £2. It's quick to set up, and every contribution counts.",
            "By supporting the Ledger, you're defending open, independent journalism in Eastmere. Thank "
            "you for standing with us.",
        ),
        inline_variants=(
            (
                "Help keep the Ledger independent.",
                "Our reporting is paid for by readers, and we need more of you.",
                "Make a contribution.",
            ),
            (
                "Can you spare £2?",
                "A small monthly gift helps us cover councils, courts and planning decisions across the "
                "county.",
                "Support the Ledger.",
            ),
        ),
        newsletter=(
            "The Morning Ledger",
            "Sign up for our free morning newsletter with the county's essential stories before breakfast.",
            "Your email",
            "Sign me up",
            "You can unsubscribe at any time. See our privacy notice for how we use your data.",
        ),
        membership=(
            "Join Ledger Members",
            "Members get ad-free reading, early access to our investigations and a monthly print edition.",
            "Join for £4 a month",
        ),
        cookie_text="We use cookies and similar technologies to make this site work and to understand "
        "how it is used.",
    ),
    "portcalder": Appeals(
        donation_heading="A Message from Port Calder Wire:",
        donation_paragraphs=(
            "Dear readers,",
            "The Wire has reported on this harbour for more than thirty years, through the closure of "
            "the yards, the collapse of the herring fleet and the slow return of work to the waterfront.",
            "We, the journalists of Port Calder Wire, want to be here for the next thirty. But we cannot "
            "do it on advertising alone, and to continue our work we need your help.",
            "Your support, no matter how small, makes a world of difference. If you can, please support "
            "us monthly starting from just £2. It's quick to set up, and every contribution makes a real "
            "impact.",
            "By supporting the Wire, you're defending independent journalism on the west coast. Thank "
            "you for standing with us.",
        ),
        inline_variants=(
            (
                "Support independent journalism.",
                "Port Calder Wire is funded by readers like you.",
                "Donate today.",
            ),
            (
                "Before you go:",
                "we have no paywall because readers chip in to keep our journalism free for everyone.",
                "Chip in now.",
            ),
        ),
        newsletter=(
            "Sign up for our morning newsletter",
            "Harbour news, shipping movements and the forecast, every weekday at 6am.",
            "E-mail:",
            "Subscribe",
            "You can unsubscribe at any time.",
        ),
        membership=(
            "Become a member of the Wire",
            "Members get ad-free reading, the weekend digest and a vote on what we investigate next.",
            "Join for £5 a month",
        ),
        cookie_text="This website uses cookies. By continuing to browse you agree to our use of cookies.",
    ),
}


STORIES: tuple[Story, ...] = (
    # ---------------------------------------------------------------- The Millbrook Courier
    Story(
        publisher="millbrook",
        slug="council-approves-flood-wall-mill-race",
        section="Local",
        title="Council approves $4.2 million flood wall along the Mill Race",
        author="Dana Whitcombe",
        summary="The wall will protect 140 homes and the old tannery district after two floods in five "
        "years.",
        day_offset=0,
        time="06:45",
        updated_after_min=95,
        paragraphs=(
            "Millbrook City Council voted 6-1 on Tuesday night to build a concrete and earth flood wall "
            "along the Mill Race, ending nearly three years of debate over how to protect the low-lying "
            "streets east of the river.",
            "The $4.2 million project will run for roughly half a mile from the Canal Street footbridge "
            "to the old tannery, where water reached the second step of the post office during the "
            "spring flood two years ago.",
            "City engineer Ruth Pallister told councillors that the design allows for a river level two "
            'feet higher than the worst flood on record. "We are not building for the last flood," she '
            'said. "We are building for the one our grandchildren will see."',
            "About two thirds of the money will come from a state resilience grant awarded last autumn. "
            "The rest will be borrowed over twenty years, adding an estimated $38 a year to the average "
            "residential water bill.",
            "The only vote against came from councillor Mark Ebbing, who represents the east ward. He "
            "said he supported flood protection but objected to the loss of 23 mature sycamores along "
            "the towpath, which the plan replaces with younger trees further from the bank.",
            "Several residents of Tanner's Row spoke during public comment, most of them in favour. "
            "Elsie Marrow, who has lived on the street since 1974, said she had moved her furniture "
            'upstairs four times in the past decade and was "too old to do it a fifth time."',
            "Construction is expected to begin in late summer and take about fourteen months. The "
            "towpath will close in sections, and the city has promised a temporary walking route along "
            "Foundry Lane.",
        ),
    ),
    Story(
        publisher="millbrook",
        slug="hollis-street-elementary-later-start",
        section="Education",
        title="Hollis Street Elementary to trial a later start time this fall",
        author="Priya Okafor",
        summary="Classes will begin at 8:50 instead of 8:05 for one semester while the district studies "
        "attendance.",
        day_offset=0,
        time="14:20",
        paragraphs=(
            "Pupils at Hollis Street Elementary will start school 45 minutes later from September under "
            "a one-semester trial approved by the Millbrook school board on Monday.",
            "The board's research committee said early starts were hardest on families who rely on the "
            "number 4 bus, which reaches the school at 7:58 on most mornings and is often late in "
            "winter.",
            "Principal Anne Castellano said teachers had noticed that first-period attendance was lower "
            'than any other time of day. "The children who miss the start are usually the same '
            'children, and it is rarely their fault," she said.',
            "The trial means the school day will end at 3:35, which some parents said would clash with "
            "work shifts at the distribution center on Route 9. The district has agreed to keep the "
            "library open until 5 p.m. for pupils who need somewhere to wait.",
            "The board will compare attendance, reading scores and after-school sign-ups with last year "
            "before deciding in January whether to extend the change to the district's other two "
            "elementary schools.",
        ),
    ),
    Story(
        publisher="millbrook",
        slug="canal-street-bakery-75-years",
        section="Business",
        title="Canal Street bakery marks 75 years with its wood-fired oven still burning",
        author="Tom Reinholt",
        summary="Brannigan's has baked rye in the same brick oven since 1950. The fourth generation is "
        "taking over.",
        day_offset=1,
        time="09:05",
        paragraphs=(
            "The brick oven at the back of Brannigan's Bakery was lit at 3:30 on Thursday morning, as it "
            "has been almost every day since the shop opened on Canal Street in 1950.",
            "Owner Leo Brannigan, 71, says the oven has been relined three times and had its chimney "
            "rebuilt after a lightning strike, but the original iron door still hangs on the same hinges "
            "his grandfather fitted.",
            "The bakery is celebrating its 75th anniversary this week with a free slice of its caraway "
            "rye for every customer and a small exhibition of old photographs borrowed from the county "
            "historical society.",
            "Brannigan's daughter, Claire, will take over the business next spring. She trained as an "
            "accountant and spent a decade in Chicago before returning home, and she says the numbers "
            "only work because the family owns the building outright.",
            '"Flour has gone up, electricity has gone up, the wood has gone up," she said. "The one '
            "thing we haven't changed is the price of a plain roll, and people notice that.\"",
            "Regulars lined up outside before opening on Thursday. Among them was retired mail carrier "
            "Gus Hallam, who said he had bought a loaf on his way home from work for thirty-one years "
            "and saw no reason to stop now that he had retired.",
        ),
    ),
    Story(
        publisher="millbrook",
        slug="library-friends-book-sale-roof-repairs",
        section="Community",
        title="Library book sale aims to fill gap in roof repair budget",
        author="Dana Whitcombe",
        summary="The Friends of Millbrook Library hope to raise $12,000 after the city delayed repairs "
        "to next year.",
        day_offset=1,
        time="19:40",
        mentions=(2,),
        paragraphs=(
            "Volunteers at Millbrook Public Library are sorting more than 20,000 secondhand books ahead "
            "of a three-day sale that organizers hope will raise enough to patch the building's leaking "
            "roof.",
            "The city had planned to replace the roof this year, but the work was pushed back after the "
            "flood wall and a new fire engine took priority in the capital budget. Buckets have been "
            "placed in the reading room since March.",
            "The Friends of Millbrook Library, whose monthly newsletter reaches about 900 households, "
            "asked residents to donate paperbacks, children's books and records by Friday so they can be "
            "priced over the weekend.",
            "Group chair Marjorie Penn said last year's sale raised just over $7,000, most of it from "
            "hardbacks sold at two dollars each. This year the target is $12,000, which would pay for a "
            "temporary membrane over the worst section.",
            "Head librarian Samuel Osei said staff had already moved the local history collection to the "
            'basement as a precaution. "Those records are irreplaceable, and water does not care '
            'whether a book is rare," he said.',
            "The sale runs from Friday to Sunday in the community room, opening at 10 a.m. each day. "
            "Everything left on Sunday afternoon will be sold by the bag for five dollars.",
        ),
    ),
    Story(
        publisher="millbrook",
        slug="route-9-bridge-weekend-closures",
        section="Transportation",
        title="Route 9 bridge to close for three weekends of deck repairs",
        author="Tom Reinholt",
        summary="Drivers face a twelve-mile detour while state crews replace expansion joints.",
        day_offset=2,
        time="11:15",
        updated_after_min=240,
        paragraphs=(
            "The Route 9 bridge over the Tamsin River will close to all traffic for three consecutive "
            "weekends starting next Friday evening, the state transportation department announced.",
            "Crews will replace four expansion joints and resurface the northbound deck, work that "
            "officials said could not be done safely with one lane open because of the narrow shoulders.",
            "Drivers will be directed through Carver and back along County Road 12, a detour of about "
            "twelve miles. Emergency vehicles will be allowed to cross on temporary steel plates if "
            "needed.",
            "Businesses on the north bank said the timing was poor, with the closures overlapping the "
            "start of the farmers' market season. The department said it had already moved the work once "
            "to avoid the high school graduation weekend.",
        ),
    ),
    Story(
        publisher="millbrook",
        slug="millers-edge-carver-extra-innings",
        section="Sports",
        title="Millers edge Carver in eleven innings to stay top of the valley league",
        author="Jesse Lindqvist",
        summary="A two-out single from catcher Nate Dorsey settled a game that lasted almost four hours.",
        day_offset=3,
        time="22:10",
        paragraphs=(
            "The Millbrook Millers needed eleven innings and nearly four hours on Saturday to beat the "
            "Carver Foxes 5-4 at Riverside Park, keeping a one-game lead at the top of the Tamsin Valley "
            "League.",
            "Catcher Nate Dorsey won it with a two-out single to left field that scored pinch runner Eli "
            "Warsame from second base. Dorsey had gone hitless in his previous four at-bats.",
            "Carver led 4-1 going into the eighth before the Millers loaded the bases with nobody out. A "
            "sacrifice fly and a throwing error at third base brought the home side level.",
            "Starting pitcher Luis Carmona lasted seven innings and struck out nine, his best outing of "
            "the season. Manager Wendy Strachan said she had considered taking him out in the sixth but "
            '"he looked at me like I\'d stolen his lunch."',
            "The two teams meet again in Carver next Saturday. A crowd of 1,140 attended, the largest at "
            "Riverside Park since the stands were rebuilt.",
        ),
    ),
    # ---------------------------------------------------------------- Eastmere Ledger
    Story(
        publisher="eastmere",
        slug="bitterns-breed-at-fen-reach",
        section="Environment",
        title="Bitterns breed at Fen Reach for the first time in 40 years",
        author="Harriet Moy",
        summary="Wardens confirmed two nests after hearing the birds' booming calls across the reedbed.",
        day_offset=0,
        time="08:30",
        updated_after_min=45,
        paragraphs=(
            "Bitterns have bred at the Fen Reach nature reserve near Eastmere for the first time since "
            "the early 1980s, wildlife wardens confirmed this week.",
            "Two nests were found deep in the reedbed after volunteers logged the birds' distinctive "
            "booming call on more than thirty mornings between March and May. At least three chicks have "
            "been seen from the hide on the northern bank.",
            "The bittern, a shy heron that relies on large wet reedbeds, vanished from much of the "
            "county as land was drained for farming. Its return follows a twelve-year project to reflood "
            "fields that had been used for sugar beet.",
            'Reserve manager Colin Fairbrother said the team had almost given up hope. "We built the '
            'habitat and then we waited, and waited," he said. "You are told that if you build it they '
            'will come. Nobody tells you it might take a decade."',
            "The Fenland Wildlife Partnership, which owns the site, said water levels would be held "
            "higher than usual through the summer to keep predators such as foxes away from the nests.",
            "The hide closest to the nests will remain shut until August. Visitors are asked to stay on "
            "the boardwalk and not to play recorded calls, which can disturb the adults.",
            "Bird surveys across the East of England have recorded a slow recovery in bittern numbers "
            "over the past two decades, though the species remains on the amber list of conservation "
            "concern.",
            "Fairbrother said the next goal was to attract marsh harriers, which have been seen hunting "
            "over the reserve but have not yet nested there.",
        ),
    ),
    Story(
        publisher="eastmere",
        slug="weavers-yard-mill-flats-approved",
        section="Business",
        title="Former textile mill at Weaver's Yard to become 120 flats",
        author="Owen Prideaux",
        summary="Planners approved the scheme despite objections over parking and the loss of a "
        "community studio.",
        day_offset=0,
        time="17:55",
        paragraphs=(
            "A derelict textile mill that once employed more than 600 people will be converted into 120 "
            "flats after Eastmere District Council's planning committee approved the scheme on "
            "Wednesday.",
            "The four-storey Victorian building at Weaver's Yard has been empty since 2008, when the "
            "last tenant, a carpet warehouse, moved to an out-of-town retail park.",
            "Developer Calloway Homes plans to keep the mill's brick facade, cast-iron columns and "
            "chimney, while adding a glazed rooftop storey. Twenty-four of the flats will be offered at "
            "affordable rent through a housing association.",
            "Objectors, including the Weaver's Yard Residents' Association, said the scheme provided "
            "only 60 parking spaces and would push cars onto narrow terraced streets nearby.",
            "Councillor Imogen Tate, who chairs the committee, said the site was a ten-minute walk from "
            'the railway station. "We cannot keep refusing homes in the town centre because people '
            'might own a car," she said.',
            "Work is expected to begin in the autumn. A pottery studio that has rented the ground floor "
            "on a short lease since 2021 has been offered space in the developer's neighbouring "
            "commercial unit.",
        ),
    ),
    Story(
        publisher="eastmere",
        slug="little-ashby-surgery-saturday-clinics",
        section="Health",
        title="Little Ashby surgery to end Saturday morning clinics",
        author="Harriet Moy",
        summary="The practice says it cannot staff weekend sessions after two GPs retired.",
        day_offset=1,
        time="07:10",
        paragraphs=(
            "Patients in Little Ashby will no longer be able to see a doctor on Saturday mornings from "
            "next month, after the village surgery said it could not fill weekend shifts.",
            "The Ashby Green Medical Practice, which serves about 7,400 patients, lost two of its five "
            "GPs to retirement over the winter and has been unable to recruit replacements.",
            "In a letter to patients, the practice said weekday appointments would be extended until 7pm "
            "on Tuesdays and Thursdays, and that urgent weekend care would continue through the NHS 111 "
            "service.",
            "Parish councillor Geoffrey Lomax said many residents worked in Eastmere or further afield "
            'and relied on Saturday appointments. "For a lot of working families, that was the only '
            "slot that did not mean losing a day's pay,\" he said.",
            "The local integrated care board said it was working with the practice on a recruitment "
            "campaign and hoped to restore weekend sessions within a year.",
        ),
    ),
    Story(
        publisher="eastmere",
        slug="rural-bus-routes-evening-cuts",
        section="Transport",
        title="Evening buses cut on three rural routes as subsidy ends",
        author="Owen Prideaux",
        summary="The last services from Eastmere to Holt Fen, Saxby and Cole End will leave before 7pm.",
        day_offset=1,
        time="13:45",
        updated_after_min=180,
        paragraphs=(
            "Evening bus services on three routes linking Eastmere with surrounding villages will be "
            "withdrawn at the end of the month, after a county council subsidy ran out.",
            "Fenline Buses said the last departures from Eastmere bus station to Holt Fen, Saxby and "
            "Cole End would leave at 6.40pm, compared with 10.15pm now. Daytime timetables are "
            "unchanged.",
            "The operator said passenger numbers after 7pm averaged fewer than six people per journey, "
            "and that it could not run the services commercially without public support.",
            "Students at Eastmere College said the change would make it impossible to attend evening "
            "classes. Sixth-former Aisha Begum, who lives in Saxby, said a taxi home would cost her "
            "about £22.",
            "The county council said it was considering a demand-responsive minibus for the villages, "
            "which passengers would book through an app, but that no decision would be made before the "
            "autumn.",
        ),
    ),
    Story(
        publisher="eastmere",
        slug="rovers-sign-goalkeeper-on-loan",
        section="Sport",
        title="Eastmere Rovers sign goalkeeper on season-long loan",
        author="Callum Rees",
        summary="Twenty-year-old Kofi Mensah joins from a Championship club to replace the injured Danny "
        "Hale.",
        day_offset=2,
        time="10:00",
        paragraphs=(
            "Eastmere Rovers have signed goalkeeper Kofi Mensah on a season-long loan to cover for "
            "first-choice keeper Danny Hale, who is expected to miss four months with a broken wrist.",
            "Mensah, 20, has played eleven league games on loan in the National League North and was "
            "named in his parent club's squad for two cup matches last season.",
            'Manager Stuart Kerridge said the club had been watching Mensah since the spring. "He is '
            'tall, he is calm and he kicks the ball better than most centre-halves in this division," '
            "he said.",
            "Rovers open their season at home to Brackley Town a week on Saturday. Season ticket sales "
            "have passed 1,800, the club said, the highest figure since promotion.",
        ),
    ),
    Story(
        publisher="eastmere",
        slug="village-hall-troupe-revives-1920s-farce",
        section="Culture",
        title="Village hall troupe revives a forgotten 1920s farce",
        author="Beatrice Lund",
        summary="The Saxby Players found the script in a trunk donated with a late member's belongings.",
        day_offset=2,
        time="20:30",
        paragraphs=(
            "An amateur theatre group in Saxby is staging what it believes is the first performance in "
            "almost a century of a comedy written by a local schoolmaster in 1926.",
            'The Saxby Players discovered the handwritten script of "Mrs Pettigrew\'s Umbrella" in a '
            "trunk of costumes left to the group by a founding member who died last year.",
            "Director Rosalind Hythe said the play follows a vicar's wife who mistakenly takes home the "
            "wrong umbrella after a church fete and spends three acts trying to return it without anyone "
            "noticing.",
            '"Some of the jokes have not aged at all, and some have aged so badly we had to cut them," '
            'she said. "But the central misunderstanding is as funny now as it must have been then."',
            "Local historians believe the author, Ernest Whitlow, taught at Saxby village school for "
            "more than thirty years. A photograph of him with his class of 1931 hangs in the hall's "
            "foyer during the run.",
            "Performances take place on Friday and Saturday evenings for the next two weekends. The "
            "group says the last two nights have already sold out.",
        ),
    ),
    # ---------------------------------------------------------------- Port Calder Wire
    Story(
        publisher="portcalder",
        slug="skerra-night-ferry-returns",
        section="Harbour",
        title="Night ferry to Skerra returns after six-week engine refit",
        author="Morag Tennant",
        summary="Islanders had relied on a single daytime sailing since the MV Calder Lass was withdrawn.",
        day_offset=0,
        time="05:40",
        paragraphs=(
            "The overnight ferry between Port Calder and the island of Skerra resumed sailing on Monday "
            "after a six-week absence caused by a failed gearbox on one of its two engines.",
            "The MV Calder Lass left the linkspan at 23.15 with 61 passengers, nine cars and a lorry "
            "carrying animal feed, and arrived in Skerra shortly after 4am, the operator said.",
            "During the refit islanders had to rely on a single daytime crossing by a smaller vessel "
            "that could not carry heavy goods. The island shop rationed fresh milk for two weeks in "
            "April.",
            "Skerra community council convener Iain Beaton said the disruption had shown how fragile the "
            'link was. "One gearbox, and an island of 800 people is short of bread," he said.',
            "The ferry company said the replacement gearbox had been built in Norway and that a spare "
            "would now be kept in Port Calder. It also apologised to hauliers who had lost contracts.",
            "Ministers have promised a new vessel for the route by 2028, but the order has not yet been "
            "placed.",
        ),
    ),
    Story(
        publisher="portcalder",
        slug="childrens-ward-appeal-passes-2-million",
        section="Health",
        title="Children's ward appeal passes £2 million two years early",
        author="Fraser Dunlop",
        summary="The fundraising campaign for the Calder Infirmary paediatric unit had set a five-year "
        "target.",
        day_offset=0,
        time="11:50",
        updated_after_min=70,
        mentions=(1, 4),
        paragraphs=(
            "A fundraising campaign to rebuild the children's ward at Calder Royal Infirmary has passed "
            "its £2 million target, two years ahead of schedule.",
            "The infirmary's charity said donations had reached £2.04 million by the end of last week, "
            "and that it would keep publishing running totals in its weekly newsletter until the ward "
            "opens.",
            "The appeal began after a report found that the existing unit, built in 1968, had too few "
            "single rooms and no space for parents to stay overnight beside their children.",
            "More than 4,000 people have taken part in events ranging from a sponsored swim across the "
            "harbour to a bake sale run by pupils at Westshore Primary, which raised £3,160 on its own.",
            "Charity director Elaine Robb said the largest single gift, £250,000, came from a retired "
            "fisherman who asked not to be named. Donations are still being accepted for equipment, she "
            "said, and the newsletter will list what each extra £10,000 can buy.",
            "Building work on the new ward, which will have 18 single rooms and a family kitchen, is due "
            "to start in the spring.",
            'Consultant paediatrician Dr Anil Varma said staff were "overwhelmed" by the response. '
            '"Every nurse on the ward has a story of a parent sleeping in a chair for a week," he '
            "said.",
        ),
    ),
    Story(
        publisher="portcalder",
        slug="langoustine-landings-fall-third-year",
        section="Fishing",
        title="Langoustine landings fall for a third year, harbour figures show",
        author="Morag Tennant",
        summary="Skippers blame rising fuel costs and shifting stocks rather than quotas.",
        day_offset=1,
        time="16:25",
        paragraphs=(
            "Landings of langoustine at Port Calder fell by 14 per cent last year, the third annual "
            "decline in a row, according to figures published by the harbour trust.",
            "The catch was worth £9.8 million at first sale, down from £11.6 million the year before. "
            "Prices held up, the trust said, but fewer boats went to sea on marginal days.",
            "Skipper Donnie MacAulay, who has fished from the harbour for 27 years, said diesel costs "
            'meant a trip needed a bigger haul than it used to before it was worth untying. "A bad day '
            "used to cost you your wages. Now it costs you the boat's,\" he said.",
            "Marine scientists have also reported that some langoustine grounds to the south of Skerra "
            "are less productive than a decade ago, possibly because of warmer bottom water.",
            "The harbour trust said it would cut landing dues by a fifth for vessels under 12 metres "
            "from next month, in an effort to keep the smaller inshore boats working from the port.",
            "The number of registered fishing vessels based in Port Calder has dropped from 41 to 33 "
            "since 2020.",
        ),
    ),
    Story(
        publisher="portcalder",
        slug="dry-dock-reopens-first-order",
        section="Business",
        title="Dry dock reopens with its first order in six years",
        author="Fraser Dunlop",
        summary="A research vessel will be refitted at the Gantock yard, creating 45 jobs for at least a "
        "year.",
        day_offset=2,
        time="08:15",
        paragraphs=(
            "The dry dock at the former Gantock shipyard reopened on Tuesday to receive its first vessel "
            "in six years, a 70-metre ocean research ship in need of a full refit.",
            "The RV Halley Sound was towed in on the morning tide and the dock gates were closed behind "
            "her at 10.40, watched by a small crowd that included several men who had worked at the yard "
            "before it shut.",
            "The dock was bought last year by Westerly Marine, a company formed by two former Gantock "
            "engineers with backing from a regional investment fund.",
            "Managing director Kirsty Galbraith said the refit contract was worth about £7 million and "
            "would employ 45 people for at least twelve months, rising to 60 at peak.",
            '"This yard has the deepest dock on this coast," she said. "For six years it sat full of '
            'rain water while ships sailed past us to be repaired somewhere else."',
            "Apprentice welder Ryan Kerr, 19, said he had applied for the job after seeing the dock lit "
            "up at night from his bedroom window. His grandfather worked on the last ship launched at "
            "Gantock.",
            "Work on the Halley Sound includes new propulsion motors, replacement of corroded hull "
            "plates and a refurbishment of her laboratories.",
            "Westerly Marine said it was bidding for two further contracts, including the overhaul of a "
            "lifeboat and the conversion of a cargo barge into a floating workshop.",
            "The local council, which owns the quay beside the dock, has agreed to resurface it and to "
            "restore the 1950s crane that still stands at the water's edge.",
        ),
    ),
    Story(
        publisher="portcalder",
        slug="drone-flights-container-terminal-fine",
        section="Courts",
        title="Man fined after flying drone over container terminal",
        author="Alasdair Shaw",
        summary="The sheriff said the flights had forced the terminal to halt crane operations twice.",
        day_offset=3,
        time="12:35",
        paragraphs=(
            "A 34-year-old man has been fined £1,200 for flying a drone over the Port Calder container "
            "terminal, forcing crane operations to stop twice in one afternoon.",
            "Calder Sheriff Court heard that Stuart Liddell, of Marine Terrace, flew the aircraft over "
            "the quay to film a large container ship arriving in February.",
            "Terminal staff spotted the drone at about 2pm and halted loading while it hovered near the "
            "gantry cranes. Police traced Liddell after he posted the footage on social media the same "
            "evening.",
            "Liddell admitted breaching air navigation rules. His solicitor said he had not realised the "
            "terminal was restricted airspace and had since sold the drone.",
            "Sheriff Catriona Moffat said the risk to crane drivers and dock workers had been obvious. "
            "She also ordered the footage to be deleted from all of his accounts.",
        ),
    ),
    Story(
        publisher="portcalder",
        slug="storm-closes-esplanade-overnight",
        section="Weather",
        title="Storm closes the Esplanade as waves top the sea wall",
        author="Alasdair Shaw",
        summary="Gusts of 78mph were recorded at the harbour mouth and two fishing boats broke their "
        "moorings.",
        day_offset=2,
        time="18:05",
        updated_after_min=150,
        paragraphs=(
            "Police closed the Esplanade in Port Calder on Wednesday evening after waves began breaking "
            "over the sea wall and throwing stones onto the road during an unseasonal storm.",
            "A gust of 78mph was recorded at the harbour mouth shortly before 5pm, and two small fishing "
            "boats broke their moorings in the inner basin before being secured by the harbour master's "
            "crew.",
            "Cafe owners along the front placed sandbags across their doors, and the council opened the "
            "Victoria Hall as a rest centre for residents of the lowest flats on Shore Street.",
            "Forecasters expect the wind to ease overnight, but the council said the road would stay "
            "shut until engineers had checked the wall for damage at first light.",
        ),
    ),
)
