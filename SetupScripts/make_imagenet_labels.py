"""Generate labelers/imagenet_labels.json: each ImageNet-1k class -> a searchable label + parents.

The model answers in 1000 ImageNet classes ("tabby, tabby cat", "espresso"); people search
for "Cat" or "Coffee". This maps every class, Rekognition-style, to a label ``name``, its
``parents`` (all ancestors, e.g. Pet, Feline, Mammal, Animal) and sometimes a finer
``specific`` label (the dog breed, the bird species) whose parents are ``name`` + parents.

The class names come from timm's bundled ImageNet synset files (no download at run time).
timm is only read, never imported, so it can be installed without its torch dependencies:

    /work/export-venv/bin/pip install --no-deps timm==1.0.31
    /work/export-venv/bin/python SetupScripts/make_imagenet_labels.py

Rules below: ``GROUPS`` lists (label, direct parents, members); a member is a class's first
ImageNet lemma ("golden retriever") or "#index" / "#first-last", optionally followed by
"=Specific Label" or "*" (specific label = the title-cased lemma). ``UPPER`` gives the
parents of labels that only ever appear as parents. The script checks every class is mapped
exactly once and every parent chain ends.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "FlaskApp/photogallery/labelers/imagenet_labels.json"

UPPER: dict[str, list[str]] = {
    "Animal": [],
    "Mammal": ["Animal"],
    "Pet": ["Animal"],
    "Wildlife": ["Animal"],
    "Livestock": ["Animal"],
    "Bird": ["Animal"],
    "Sea Life": ["Animal"],
    "Fish": ["Sea Life"],
    "Reptile": ["Animal"],
    "Amphibian": ["Animal"],
    "Invertebrate": ["Animal"],
    "Insect": ["Invertebrate"],
    "Arachnid": ["Invertebrate"],
    "Crustacean": ["Invertebrate", "Sea Life"],
    "Canine": ["Mammal"],
    "Feline": ["Mammal"],
    "Rodent": ["Mammal"],
    "Primate": ["Mammal", "Wildlife"],
    "Cattle": ["Mammal", "Livestock"],
    "Transportation": [],
    "Vehicle": ["Transportation"],
    "Watercraft": ["Vehicle"],
    "Boat": ["Watercraft"],
    "Ship": ["Boat"],
    "Sailboat": ["Boat"],
    "Aircraft": ["Vehicle"],
    "Spacecraft": ["Vehicle"],
    "Military": [],
    "Military Vehicle": ["Vehicle", "Military"],
    "Car Part": ["Car"],
    "Food": [],
    "Fruit": ["Food", "Plant"],
    "Citrus Fruit": ["Fruit"],
    "Vegetable": ["Food", "Plant"],
    "Dessert": ["Food"],
    "Fast Food": ["Food"],
    "Bread": ["Food"],
    "Meal": ["Food"],
    "Dish": ["Meal"],
    "Seafood": ["Food"],
    "Drink": ["Food"],
    "Beverage": ["Drink"],
    "Alcohol": ["Beverage"],
    "Beer": ["Alcohol"],
    "Wine": ["Alcohol"],
    "Plant": [],
    "Flower": ["Plant"],
    "Nature": [],
    "Fungus": ["Nature"],
    "Outdoors": [],
    "Landscape": ["Nature", "Outdoors"],
    "Water": [],
    "Sea": ["Water", "Nature"],
    "Coast": ["Landscape", "Sea"],
    "Waterfront": ["Water", "Outdoors"],
    "Farm": ["Outdoors"],
    "Architecture": [],
    "Building": ["Architecture"],
    "Tower": ["Building"],
    "Shop": ["Building"],
    "Roof": ["Building"],
    "Monument": ["Architecture"],
    "Bridge": ["Architecture"],
    "Furniture": [],
    "Chair": ["Furniture"],
    "Table": ["Furniture"],
    "Cabinet": ["Furniture"],
    "Bed": ["Furniture"],
    "Person": [],
    "Baby": ["Person"],
    "Clothing": [],
    "Hat": ["Clothing"],
    "Footwear": ["Clothing"],
    "Accessories": [],
    "Bag": ["Accessories"],
    "Jewelry": ["Accessories"],
    "Musical Instrument": [],
    "Electronics": [],
    "Computer": ["Electronics"],
    "Computer Hardware": ["Electronics"],
    "Phone": ["Electronics"],
    "Screen": ["Electronics"],
    "Photography": [],
    "Camera": ["Electronics", "Photography"],
    "Appliance": [],
    "Tableware": [],
    "Kitchenware": [],
    "Bottle": [],
    "Tool": [],
    "Power Tool": ["Tool"],
    "Office Supplies": [],
    "Sport": [],
    "Sports Equipment": ["Sport"],
    "Ball": ["Sports Equipment"],
    "Fitness Equipment": ["Sport"],
    "Toy": [],
    "Weapon": [],
    "Medical": [],
    "Bathroom": [],
    "Container": [],
    "Text": [],
    "Sign": [],
    "Halloween": [],
    "Christmas": [],
}

# (label, direct parents, members). Order: ImageNet's own (animals, objects, food, nature).
GROUPS: list[tuple[str, list[str], str]] = [
    # --- fish 0-6, 389-397
    (
        "Fish",
        [],
        "#0*; #1*; #5*; #6*; #389*; #391=Salmon; #392*; #393=Clownfish; #394*; #395*;"
        " #396*; #397=Pufferfish",
    ),
    ("Shark", ["Fish"], "#2=Great White Shark; #3*; #4=Hammerhead Shark"),
    ("Eel", ["Fish"], "#390"),
    # --- birds
    ("Chicken", ["Bird", "Livestock"], "#7=Rooster; #8=Hen"),
    (
        "Bird",
        [],
        "#9-21*; #23*; #80-83*; #85-86*; #91-93*; #94*; #95-96*; #127-129*; #131-133*;"
        " #134=Crane; #135-143*; #144*; #146*",
    ),
    ("Eagle", ["Bird"], "#22*"),
    ("Owl", ["Bird"], "#24*"),
    ("Peacock", ["Bird"], "#84"),
    ("Parrot", ["Bird", "Pet"], "#87-90*"),
    ("Duck", ["Bird"], "#97*; #98*"),
    ("Goose", ["Bird"], "#99"),
    ("Swan", ["Bird"], "#100*"),
    ("Flamingo", ["Bird"], "#130"),
    ("Penguin", ["Bird"], "#145*"),
    # --- amphibians, reptiles
    ("Salamander", ["Amphibian"], "#25*; #26=Newt; #27=Newt; #28*; #29*"),
    ("Frog", ["Amphibian"], "#30*; #31*; #32*"),
    ("Turtle", ["Reptile"], "#33=Sea Turtle; #34=Sea Turtle; #35*; #36*; #37*"),
    (
        "Lizard",
        ["Reptile"],
        "#38=Gecko; #39=Iguana; #40=Chameleon; #41-46*; #47=Chameleon; #48=Komodo Dragon",
    ),
    ("Crocodile", ["Reptile", "Wildlife"], "#49; #50=Alligator"),
    ("Dinosaur", ["Reptile"], "#51*"),
    (
        "Snake",
        ["Reptile"],
        "#52-60; #61*; #62=Python; #63=Cobra; #64=Mamba; #65*;"
        " #66=Viper; #67=Rattlesnake; #68=Rattlesnake",
    ),
    # --- invertebrates
    ("Fossil", [], "#69*"),
    ("Spider", ["Arachnid"], "#70=Daddy Longlegs; #72-74; #75=Black Widow; #76=Tarantula; #77*"),
    ("Scorpion", ["Arachnid"], "#71"),
    ("Tick", ["Arachnid"], "#78"),
    ("Centipede", ["Invertebrate"], "#79"),
    ("Jellyfish", ["Sea Life", "Invertebrate"], "#107"),
    ("Sea Anemone", ["Sea Life", "Invertebrate"], "#108"),
    ("Coral", ["Sea Life", "Invertebrate"], "#109*"),
    ("Worm", ["Invertebrate"], "#110*; #111*"),
    ("Seashell", ["Sea Life"], "#112=Conch; #116*; #117=Nautilus"),
    ("Snail", ["Invertebrate"], "#113"),
    ("Slug", ["Invertebrate"], "#114; #115=Sea Slug"),
    ("Crab", ["Crustacean"], "#118-121*; #125*"),
    ("Lobster", ["Crustacean", "Seafood"], "#122*; #123*; #124=Crayfish"),
    ("Isopod", ["Crustacean"], "#126"),
    ("Beetle", ["Insect"], "#300*; #301=Ladybug; #302-306*; #307*"),
    ("Fly", ["Insect"], "#308"),
    ("Bee", ["Insect"], "#309"),
    ("Ant", ["Insect"], "#310"),
    ("Grasshopper", ["Insect"], "#311; #312=Cricket"),
    ("Insect", [], "#313=Stick Insect; #316*; #317*; #318*"),
    ("Cockroach", ["Insect"], "#314"),
    ("Mantis", ["Insect"], "#315"),
    ("Dragonfly", ["Insect"], "#319; #320*"),
    ("Butterfly", ["Insect"], "#321=Admiral Butterfly; #322*; #323=Monarch Butterfly; #324-326*"),
    ("Starfish", ["Sea Life", "Invertebrate"], "#327"),
    ("Sea Urchin", ["Sea Life", "Invertebrate"], "#328"),
    ("Sea Cucumber", ["Sea Life", "Invertebrate"], "#329"),
    # --- mammals
    ("Elephant", ["Mammal", "Wildlife"], "#101; #385=Asian Elephant; #386*"),
    ("Echidna", ["Mammal", "Wildlife"], "#102"),
    ("Platypus", ["Mammal", "Wildlife"], "#103"),
    ("Kangaroo", ["Mammal", "Wildlife"], "#104=Wallaby"),
    ("Koala", ["Mammal", "Wildlife"], "#105"),
    ("Wombat", ["Mammal", "Wildlife"], "#106"),
    ("Whale", ["Mammal", "Sea Life"], "#147=Gray Whale; #148=Orca"),
    ("Dugong", ["Mammal", "Sea Life"], "#149"),
    ("Seal", ["Mammal", "Sea Life"], "#150=Sea Lion"),
    ("Dog", ["Pet", "Canine"], "#151-268*"),
    ("Wolf", ["Canine", "Wildlife"], "#269=Gray Wolf; #270=Arctic Wolf; #271*"),
    ("Coyote", ["Canine", "Wildlife"], "#272"),
    ("Wild Dog", ["Canine", "Wildlife"], "#273=Dingo; #274=Dhole; #275*"),
    ("Hyena", ["Mammal", "Wildlife"], "#276"),
    ("Fox", ["Canine", "Wildlife"], "#277-280*"),
    ("Cat", ["Pet", "Feline"], "#281-282; #283=Persian Cat; #284=Siamese Cat; #285"),
    ("Cougar", ["Feline", "Wildlife"], "#286"),
    ("Lynx", ["Feline", "Wildlife"], "#287"),
    ("Leopard", ["Feline", "Wildlife"], "#288; #289=Snow Leopard"),
    ("Jaguar", ["Feline", "Wildlife"], "#290"),
    ("Lion", ["Feline", "Wildlife"], "#291"),
    ("Tiger", ["Feline", "Wildlife"], "#292"),
    ("Cheetah", ["Feline", "Wildlife"], "#293"),
    ("Bear", ["Mammal", "Wildlife"], "#294*; #295=Black Bear; #296=Polar Bear; #297*"),
    ("Mongoose", ["Mammal", "Wildlife"], "#298"),
    ("Meerkat", ["Mammal", "Wildlife"], "#299"),
    ("Rabbit", ["Mammal"], "#330=Cottontail; #331=Hare; #332=Angora Rabbit"),
    ("Hamster", ["Rodent", "Pet"], "#333"),
    ("Porcupine", ["Rodent", "Wildlife"], "#334"),
    ("Squirrel", ["Rodent", "Wildlife"], "#335*"),
    ("Marmot", ["Rodent", "Wildlife"], "#336"),
    ("Beaver", ["Rodent", "Wildlife"], "#337"),
    ("Guinea Pig", ["Rodent", "Pet"], "#338"),
    ("Horse", ["Mammal", "Livestock"], "#339=Sorrel Horse"),
    ("Zebra", ["Mammal", "Wildlife"], "#340"),
    ("Pig", ["Mammal", "Livestock"], "#341"),
    ("Boar", ["Mammal", "Wildlife"], "#342=Wild Boar; #343=Warthog"),
    ("Hippo", ["Mammal", "Wildlife"], "#344"),
    ("Cow", ["Cattle"], "#345=Ox"),
    ("Buffalo", ["Cattle"], "#346=Water Buffalo; #347=Bison"),
    ("Sheep", ["Mammal", "Livestock"], "#348=Ram"),
    ("Wild Sheep", ["Mammal", "Wildlife"], "#349=Bighorn Sheep; #350=Ibex"),
    ("Antelope", ["Mammal", "Wildlife"], "#351-353*"),
    ("Camel", ["Mammal", "Livestock"], "#354"),
    ("Llama", ["Mammal", "Livestock"], "#355"),
    ("Weasel", ["Mammal", "Wildlife"], "#356; #357*; #358*; #359=Ferret"),
    ("Otter", ["Mammal", "Wildlife"], "#360"),
    ("Skunk", ["Mammal", "Wildlife"], "#361"),
    ("Badger", ["Mammal", "Wildlife"], "#362"),
    ("Armadillo", ["Mammal", "Wildlife"], "#363"),
    ("Sloth", ["Mammal", "Wildlife"], "#364"),
    ("Ape", ["Primate"], "#365-369*"),
    ("Monkey", ["Primate"], "#370-382*"),
    ("Lemur", ["Primate"], "#383=Ring-Tailed Lemur; #384*"),
    ("Red Panda", ["Mammal", "Wildlife"], "#387"),
    ("Panda", ["Bear"], "#388=Giant Panda"),
    # --- vehicles
    (
        "Car",
        ["Vehicle"],
        "beach wagon=Station Wagon; cab=Taxi; convertible*; jeep*; limousine*;"
        " minivan*; Model T*; racer=Race Car; sports car*",
    ),
    ("Car Part", [], "car wheel=Wheel; car mirror*; disk brake*; grille*; seat belt*; odometer*"),
    ("Van", ["Vehicle"], "ambulance*; police van*"),
    (
        "Truck",
        ["Vehicle"],
        "fire engine=Fire Truck; garbage truck*; moving van*;"
        " pickup=Pickup Truck; tow truck*; trailer truck=Semi Truck; snowplow*",
    ),
    ("Bus", ["Vehicle"], "minibus*; school bus*; trolleybus*"),
    (
        "Train",
        ["Vehicle"],
        "bullet train*; electric locomotive=Locomotive;"
        " steam locomotive=Locomotive; freight car*; passenger car=Train Car; streetcar=Tram",
    ),
    ("Bicycle", ["Vehicle"], "bicycle-built-for-two=Tandem Bicycle; mountain bike*; tricycle*"),
    ("Unicycle", ["Vehicle"], "unicycle"),
    ("Motorcycle", ["Vehicle"], "moped*; motor scooter=Scooter"),
    ("Tractor", ["Vehicle", "Farm"], "tractor; harvester*; thresher*"),
    ("Cart", ["Vehicle"], "horse cart*; oxcart*; jinrikisha=Rickshaw"),
    (
        "Vehicle",
        [],
        "amphibian=Amphibious Vehicle; go-kart=Go-Kart; golfcart=Golf Cart;"
        " snowmobile*; forklift*; recreational vehicle=RV",
    ),
    ("Sled", ["Vehicle"], "bobsled*; dogsled*"),
    ("Tank", ["Military Vehicle"], "tank; half track*"),
    (
        "Ship",
        [],
        "aircraft carrier*; container ship*; liner=Ocean Liner; pirate=Pirate Ship;"
        " wreck=Shipwreck",
    ),
    ("Boat", [], "canoe*; fireboat*; gondola*; lifeboat*; speedboat*; paddlewheel*"),
    ("Sailboat", [], "catamaran*; schooner*; trimaran*; yawl*"),
    ("Submarine", ["Watercraft", "Military"], "submarine"),
    ("Airplane", ["Aircraft"], "airliner*; warplane*; wing=Airplane Wing"),
    ("Airship", ["Aircraft"], "airship"),
    ("Space Shuttle", ["Spacecraft"], "space shuttle"),
    ("Rocket", [], "missile*; projectile=Missile"),
    ("Balloon", [], "balloon"),
    ("Parachute", [], "parachute"),
    # --- buildings and places
    (
        "Building",
        [],
        "apiary*; boathouse*; cinema*; cliff dwelling*; greenhouse*; library*;"
        " lumbermill=Sawmill; planetarium*; prison*; restaurant*; yurt*; mobile home*; dome*;"
        " vault*",
    ),
    ("Barn", ["Building", "Farm"], "barn"),
    ("Castle", ["Building"], "castle; palace*"),
    ("Church", ["Building"], "church; bell cote=Bell Tower; monastery*; altar*"),
    ("Mosque", ["Building"], "mosque"),
    ("Temple", ["Building"], "stupa*"),
    ("Lighthouse", ["Tower", "Waterfront"], "beacon"),
    ("Water Tower", ["Tower"], "water tower"),
    (
        "Shop",
        [],
        "bakery*; barbershop*; bookshop=Bookstore; butcher shop*;"
        " confectionery=Candy Store; grocery store*; shoe shop*; tobacco shop*; toyshop=Toy Store",
    ),
    ("Roof", [], "thatch=Thatched Roof; tile roof*"),
    ("Monument", [], "obelisk*; triumphal arch*; megalith*; totem pole*"),
    ("Bridge", [], "steel arch bridge*; suspension bridge*; viaduct*"),
    ("Dam", ["Architecture", "Water"], "dam"),
    ("Pier", ["Waterfront"], "pier; dock*; breakwater*"),
    ("Fence", [], "chainlink fence*; picket fence*; worm fence=Split-Rail Fence"),
    ("Wall", [], "stone wall*"),
    ("Fountain", ["Water"], "fountain"),
    ("Patio", ["Outdoors"], "patio"),
    ("Playground", ["Outdoors"], "swing*"),
    ("Amusement Park", ["Outdoors"], "carousel*"),
    ("Stage", [], "stage; theater curtain*"),
    ("Drilling Platform", ["Sea"], "drilling platform"),
    ("Radio Telescope", ["Electronics"], "radio telescope"),
    ("Solar Panel", ["Electronics"], "solar dish=Solar Dish"),
    # --- people and what they wear (these ImageNet photos nearly always show the wearer)
    ("Person", [], "ballplayer=Baseball Player; groom*; scuba diver*"),
    ("Graduation", ["Person"], "academic gown*; mortarboard*"),
    ("Dress", ["Clothing", "Person"], "gown*; hoopskirt*; overskirt*"),
    ("Suit", ["Clothing", "Person"], "suit; Windsor tie=Tie; bow tie*; bolo tie*"),
    (
        "Swimwear",
        ["Clothing", "Person"],
        "bikini*; #638=Swimsuit; #639=Swimsuit; swimming trunks*; bathing cap*",
    ),
    (
        "Clothing",
        [],
        "abaya*; apron*; brassiere=Bra; cardigan*; cloak*; fur coat*; jean=Jeans;"
        " jersey=T-Shirt; kimono*; lab coat*; miniskirt*; pajama=Pajamas; poncho*; sarong*;"
        " stole*; sweatshirt*; trench coat*; vestment*; feather boa*; bulletproof vest*",
    ),
    ("Military Uniform", ["Clothing", "Person", "Military"], "military uniform"),
    ("Baby", [], "bib*; diaper*"),
    ("Hat", [], "bearskin=Bearskin Hat; bonnet*; cowboy hat*; sombrero*; shower cap*"),
    ("Helmet", ["Clothing"], "crash helmet*; football helmet*; pickelhaube*"),
    ("Mask", ["Person"], "mask; gasmask=Gas Mask; ski mask*; oxygen mask*"),
    ("Wig", ["Person"], "wig"),
    ("Shoe", ["Footwear"], "clog*; cowboy boot*; Loafer*; running shoe=Sneaker; sandal*"),
    ("Sock", ["Clothing"], "sock; Christmas stocking*"),
    ("Glove", ["Clothing"], "mitten*"),
    ("Sunglasses", ["Accessories"], "sunglass; sunglasses"),
    ("Bag", [], "backpack*; purse=Handbag; mailbag*; plastic bag*; sleeping bag*"),
    ("Wallet", ["Accessories"], "wallet"),
    ("Necklace", ["Jewelry"], "necklace"),
    ("Accessories", [], "buckle*; hair slide=Hair Clip; handkerchief*"),
    ("Cosmetics", [], "face powder*; hair spray*; lipstick*; lotion*; perfume*; sunscreen*"),
    # --- music
    ("Guitar", ["Musical Instrument"], "acoustic guitar*; electric guitar*; pick=Guitar Pick"),
    ("Piano", ["Musical Instrument"], "grand piano*; upright=Upright Piano"),
    ("Drum", ["Musical Instrument"], "drum; steel drum*; drumstick*"),
    (
        "Musical Instrument",
        [],
        "accordion*; banjo*; bassoon*; cello*; chime=Bell; cornet=Trumpet;"
        " flute*; French horn*; gong*; harmonica*; harp*; maraca*; marimba=Xylophone; oboe*;"
        " ocarina*; organ=Pipe Organ; panpipe=Pan Flute; sax=Saxophone; trombone*; violin*",
    ),
    # --- electronics
    ("Computer", [], "desktop computer*; hand-held computer=Handheld Computer"),
    ("Laptop", ["Computer"], "laptop; notebook"),
    ("Keyboard", ["Computer Hardware"], "computer keyboard; space bar"),
    (
        "Computer Hardware",
        [],
        "mouse=Computer Mouse; hard disc=Hard Drive; modem*; printer*; joystick*",
    ),
    ("Mobile Phone", ["Phone"], "cellular telephone"),
    ("Phone", [], "dial telephone*; pay-phone=Payphone"),
    ("Screen", [], "monitor*; screen*; television*; web site=Web Page"),
    ("Camera", [], "Polaroid camera*; reflex camera*"),
    ("Photography", [], "tripod*; lens cap*"),
    (
        "Electronics",
        [],
        "cassette*; cassette player*; CD player*; home theater*; iPod*;"
        " loudspeaker=Speaker; microphone*; radio*; remote control*; tape player*; oscilloscope*;"
        " switch=Light Switch; projector*; photocopier*",
    ),
    ("Typewriter", ["Office Supplies"], "typewriter keyboard"),
    # --- home
    ("Chair", [], "barber chair*; folding chair*; rocking chair*; throne*"),
    ("Table", [], "dining table*; desk*; pool table*"),
    (
        "Cabinet",
        [],
        "china cabinet*; medicine chest=Medicine Cabinet; file=Filing Cabinet;"
        " chiffonier=Dresser; wardrobe*; entertainment center*; chest*; bookcase*",
    ),
    ("Bed", [], "four-poster=Four-Poster Bed; crib*; cradle*; bassinet*; studio couch=Daybed"),
    ("Couch", ["Furniture"], "park bench=Bench"),
    ("Bedding", [], "quilt*; pillow*"),
    ("Rug", [], "prayer rug*; doormat*"),
    ("Lamp", [], "lampshade*; table lamp*; spotlight*; torch*; candle*"),
    ("Fireplace", [], "fire screen*"),
    ("Window", [], "window screen*; window shade=Window Blind; shoji*"),
    ("Door", [], "sliding door*; turnstile*"),
    ("Railing", [], "bannister*"),
    (
        "Bathroom",
        [],
        "bathtub*; washbasin=Sink; toilet seat=Toilet; shower curtain*;"
        " soap dispenser*; toilet tissue=Toilet Paper; bath towel=Towel; swab=Mop",
    ),
    (
        "Appliance",
        [],
        "microwave*; refrigerator*; stove*; toaster*; dishwasher*;"
        " washer=Washing Machine; vacuum=Vacuum Cleaner; iron*; hand blower=Hair Dryer;"
        " electric fan=Fan; space heater=Heater; radiator*; sewing machine*; Crock Pot=Slow Cooker;"
        " espresso maker=Coffee Machine; waffle iron*; rotisserie*",
    ),
    (
        "Kitchenware",
        [],
        "caldron=Cauldron; can opener*; cleaver*; coffeepot*; corkscrew*;"
        " Dutch oven*; frying pan*; ladle*; measuring cup*; mixing bowl*; spatula*; strainer*;"
        " wok*; wooden spoon*; dishrag=Dish Towel; plate rack=Dish Rack;"
        " mortar=Mortar and Pestle; cocktail shaker*; saltshaker=Salt Shaker",
    ),
    ("Tableware", [], "tray*; teapot*; pitcher*; goblet*; soup bowl*"),
    ("Cup", ["Tableware"], "cup; coffee mug=Mug"),
    ("Bottle", [], "water bottle*; pill bottle*; pop bottle=Soda Bottle"),
    ("Beer", [], "beer bottle*; beer glass*"),
    ("Wine", [], "red wine*; wine bottle*"),
    ("Jug", ["Container"], "water jug*; whiskey jug*; milk can*"),
    (
        "Container",
        [],
        "ashcan=Trash Can; barrel*; bucket*; carton=Cardboard Box; crate*;"
        " hamper=Basket; shopping basket*; packet*; rain barrel*; tub*; safe*; vase*;"
        " pencil box=Pencil Case",
    ),
    # --- tools, office, misc objects
    (
        "Tool",
        [],
        "hammer*; hatchet*; screwdriver*; screw*; nail*; plane=Hand Plane; shovel*;"
        " broom*; plunger*; carpenter's kit=Toolbox; hook*; chain*; knot=Rope; coil*;"
        " rule=Ruler; scale*; spindle*; paintbrush*; reel=Fishing Reel; barrow=Wheelbarrow;"
        " plow*; lawn mower*",
    ),
    ("Power Tool", [], "chain saw=Chainsaw; power drill=Drill"),
    ("Construction Crane", ["Machine"], "#517"),
    ("Lock", [], "combination lock*; padlock*"),
    ("Clock", [], "analog clock*; digital clock*; wall clock*; hourglass*; sundial*"),
    ("Watch", ["Accessories"], "digital watch*; stopwatch*"),
    (
        "Office Supplies",
        [],
        "ballpoint=Pen; fountain pen*; quill=Quill Pen; binder*;"
        " envelope*; pencil sharpener*; rubber eraser=Eraser; letter opener*; abacus*; slide rule*",
    ),
    ("Book", ["Text"], "book jacket=Book Cover; comic book*"),
    ("Text", [], "crossword puzzle=Crossword; menu*; brass=Plaque"),
    ("Sign", [], "street sign*; traffic light*; scoreboard*; parking meter*"),
    ("Mailbox", [], "mailbox"),
    (
        "Machine",
        [],
        "cash machine=ATM; vending machine*; slot=Slot Machine; gas pump*; potter's wheel*",
    ),
    (
        "Measuring Instrument",
        [],
        "barometer*; magnetic compass=Compass; loupe=Magnifying Glass; binoculars*",
    ),
    (
        "Medical",
        [],
        "Band Aid=Bandage; crutch*; neck brace*; stethoscope*; stretcher*;"
        " syringe*; Petri dish*; beaker*",
    ),
    ("Gun", ["Weapon"], "assault rifle*; revolver*; rifle*"),
    ("Weapon", [], "cannon*; bow=Bow and Arrow; scabbard*; guillotine*; holster*"),
    ("Armor", [], "breastplate*; chain mail*; cuirass*; shield*"),
    (
        "Ball",
        [],
        "baseball*; basketball*; croquet ball*; golf ball*; ping-pong ball*;"
        " rugby ball*; soccer ball*; tennis ball*; volleyball*",
    ),
    ("Sports Equipment", [], "puck=Hockey Puck; paddle*; racket*; ski*; snorkel*; knee pad*"),
    ("Gymnastics", ["Sport"], "balance beam*; horizontal bar*; parallel bars*"),
    ("Fitness Equipment", [], "barbell*; dumbbell*; punching bag*"),
    ("Toy", [], "teddy=Teddy Bear; jigsaw puzzle*; pinwheel*; piggy bank*"),
    ("Jack-O'-Lantern", ["Halloween"], "jack-o'-lantern"),
    ("Flag", [], "flagpole"),
    ("Pole", [], "pole; maypole*"),
    ("Manhole Cover", [], "manhole cover"),
    ("Maze", [], "maze"),
    ("Fabric", [], "velvet*; wool*"),
    ("Matches", [], "matchstick; lighter*"),
    ("Mousetrap", [], "mousetrap"),
    ("Muzzle", [], "muzzle"),
    ("Baby Bottle", [], "nipple"),
    ("Mosquito Net", [], "mosquito net"),
    ("Oil Filter", ["Car Part"], "oil filter"),
    ("Tent", ["Outdoors"], "mountain tent"),
    ("Shopping Cart", [], "shopping cart"),
    ("Paper Towel", [], "paper towel"),
    ("Safety Pin", [], "safety pin"),
    ("Thimble", [], "thimble"),
    ("Whistle", [], "whistle"),
    ("Umbrella", [], "umbrella"),
    ("Pedestal", [], "pedestal"),
    ("Birdhouse", [], "birdhouse"),
    ("Bottle Cap", [], "bottlecap"),
    ("Honeycomb", [], "honeycomb"),
    ("Spider Web", [], "spider web"),
    ("Bubble", [], "bubble"),
    # --- food and drink 924-969
    (
        "Dish",
        [],
        "plate=Plate of Food; guacamole*; hot pot*; mashed potato=Mashed Potatoes;"
        " meat loaf=Meatloaf; potpie=Pot Pie",
    ),
    ("Soup", ["Dish"], "consomme*"),
    ("Pasta", ["Dish"], "carbonara*"),
    ("Dessert", [], "trifle*; ice cream*; ice lolly=Popsicle; chocolate sauce*"),
    ("Bread", [], "French loaf=Baguette; bagel*; pretzel*; dough*"),
    ("Burger", ["Fast Food"], "cheeseburger*"),
    ("Hot Dog", ["Fast Food"], "hotdog"),
    ("Pizza", ["Fast Food"], "pizza"),
    ("Burrito", ["Fast Food"], "burrito"),
    (
        "Vegetable",
        [],
        "head cabbage=Cabbage; broccoli*; cauliflower*; zucchini*; cucumber*;"
        " artichoke*; bell pepper*; cardoon*; corn*; #998=Corn",
    ),
    ("Squash", ["Vegetable"], "spaghetti squash*; acorn squash*; butternut squash*"),
    ("Apple", ["Fruit"], "Granny Smith*"),
    ("Strawberry", ["Fruit"], "strawberry"),
    ("Orange", ["Citrus Fruit"], "orange"),
    ("Lemon", ["Citrus Fruit"], "lemon"),
    ("Fruit", [], "fig*; pineapple*; jackfruit*; custard apple*; pomegranate*; hip=Rose Hip"),
    ("Banana", ["Fruit"], "banana"),
    ("Coffee", ["Beverage"], "espresso*"),
    ("Eggnog", ["Beverage"], "eggnog"),
    ("Hay", ["Farm"], "hay"),
    # --- nature 970-998
    ("Mountain", ["Landscape"], "alp; volcano*"),
    ("Cliff", ["Landscape"], "cliff"),
    ("Reef", ["Sea Life", "Sea"], "coral reef*"),
    ("Geyser", ["Landscape"], "geyser"),
    ("Lake", ["Landscape", "Water"], "lakeside"),
    ("Coast", [], "promontory*; sandbar*"),
    ("Beach", ["Coast"], "seashore"),
    ("Valley", ["Landscape"], "valley"),
    ("Flower", [], "rapeseed*; daisy*; yellow lady's slipper=Orchid"),
    ("Plant", [], "acorn*; buckeye*"),
    ("Potted Plant", ["Plant"], "pot"),
    (
        "Mushroom",
        ["Fungus"],
        "mushroom; agaric*; gyromitra*; stinkhorn*; hen-of-the-woods*;"
        " bolete*; coral fungus*; earthstar*",
    ),
]

# Lemmas that title-case badly or that people call something else.
SPECIFIC_RENAMES = {
    "Eskimo Dog": "Husky",
    "Siberian Husky": "Husky",
    "Malamute": "Alaskan Malamute",
    "Pembroke": "Corgi",
    "Cardigan": "Corgi",
    "Toy Poodle": "Poodle",
    "Miniature Poodle": "Poodle",
    "Standard Poodle": "Poodle",
    "Maltese Dog": "Maltese",
    "Boston Bull": "Boston Terrier",
    "Cairn": "Cairn Terrier",
    "Airedale": "Airedale Terrier",
    "Lhasa": "Lhasa Apso",
    "Clumber": "Clumber Spaniel",
    "English Springer": "English Springer Spaniel",
    "Chow": "Chow Chow",
    "Basset": "Basset Hound",
    "Pekinese": "Pekingese",
    "Leonberg": "Leonberger",
    "Brabancon Griffon": "Brussels Griffon",
    "Mexican Hairless": "Xoloitzcuintli",
    "Eft": "Newt",
    "Grey Fox": "Gray Fox",
    "IPod": "iPod",
    "Bannister": "Banister",
    "Scotch Terrier": "Scottish Terrier",
    "Lycaenid": "Lycaenid Butterfly",
    "Ringlet": "Ringlet Butterfly",
}
SMALL_WORDS = {"and", "of", "des", "the"}


def timm_info_dir() -> Path:
    """timm ships ImageNet class names; find them without importing timm (and torch)."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("timm is not installed: pip install --no-deps timm==1.0.31")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "_info"


def imagenet_classes() -> list[tuple[str, str]]:
    """(wnid, lemmas) for the 1000 classes, in model output order (sorted wnids)."""
    info = timm_info_dir()
    wnids = (info / "imagenet_synsets.txt").read_text().split()
    lines = (info / "imagenet_synset_to_lemma.txt").read_text().splitlines()
    lemmas = dict(line.split("\t", 1) for line in lines)
    assert len(wnids) == 1000 and wnids == sorted(wnids)
    return [(w, lemmas[w].strip()) for w in wnids]


def title(lemma: str) -> str:
    words = []
    for word in lemma.split(" "):
        parts = [p if p in SMALL_WORDS else p[:1].upper() + p[1:] for p in word.split("-")]
        words.append("-".join(parts))
    name = " ".join(words)
    return SPECIFIC_RENAMES.get(name, name)


def parse_members(spec: str, first_lemmas: list[str]) -> list[tuple[int, str | None]]:
    """Expand a member spec into (class index, specific label or None)."""
    out = []
    for item in filter(None, (s.strip() for s in spec.split(";"))):
        key, _, specific = item.partition("=")
        star = key.endswith("*")
        key = key.rstrip("*").strip()
        if m := re.fullmatch(r"#(\d+)(?:-(\d+))?", key):
            first, last = int(m[1]), int(m[2] or m[1])
            indices = list(range(first, last + 1))
        else:
            indices = [i for i, lemma in enumerate(first_lemmas) if lemma == key]
            if len(indices) != 1:
                raise SystemExit(f"{key!r} matches {len(indices)} classes, use #index")
        for i in indices:
            out.append((i, specific.strip() or (title(first_lemmas[i]) if star else None)))
    return out


def ancestors(label: str, direct: dict[str, list[str]]) -> list[str]:
    """All parents of ``label``, nearest first, without repeats."""
    seen: list[str] = []
    queue = list(direct[label])
    while queue:
        parent = queue.pop(0)
        if parent not in seen:
            seen.append(parent)
            queue.extend(direct[parent])
    return seen


def build() -> dict:
    classes = imagenet_classes()
    first_lemmas = [lemmas.split(",")[0].strip() for _, lemmas in classes]
    direct: dict[str, list[str]] = dict(UPPER)
    assigned: dict[int, tuple[str, str | None]] = {}
    for name, parents, spec in GROUPS:
        if name in direct and parents and direct[name] != parents:
            raise SystemExit(f"{name}: parents {parents} differ from {direct[name]}")
        direct.setdefault(name, parents)
        for i, specific in parse_members(spec, first_lemmas):
            if i in assigned:
                raise SystemExit(f"class {i} {classes[i][1]!r} mapped twice")
            assigned[i] = (name, None if specific == name else specific)
    missing = [f"{i} {classes[i][1]}" for i in range(1000) if i not in assigned]
    if missing:
        raise SystemExit("unmapped classes:\n" + "\n".join(missing))
    unknown = {p for ps in direct.values() for p in ps} - direct.keys()
    if unknown:
        raise SystemExit(f"parents without an entry: {sorted(unknown)}")

    names = {name for name, _ in assigned.values()}
    clash = {s for _, s in assigned.values() if s} & (names | direct.keys())
    if clash:
        raise SystemExit(f"specific labels that are also names or parents: {sorted(clash)}")

    out_classes = []
    used_parents: set[str] = set()
    for i, (wnid, lemmas) in enumerate(classes):
        name, specific = assigned[i]
        parents = ancestors(name, direct)
        used_parents.update(parents)
        entry = {"index": i, "wnid": wnid, "imagenet": lemmas, "name": name, "parents": parents}
        if specific:
            entry["specific"] = specific
        out_classes.append(entry)
    return {
        "about": "ImageNet-1k class -> label and parents for the ONNX labeler. Generated by "
        "SetupScripts/make_imagenet_labels.py; edit that, not this file.",
        "classes": out_classes,
        "parents": {p: ancestors(p, direct) for p in sorted(used_parents)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build()
    args.out.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    names = {c["name"] for c in table["classes"]}
    print(f"wrote {args.out}: 1000 classes, {len(names)} names, {len(table['parents'])} parents")


if __name__ == "__main__":
    main()
