"""What the users say and what the bot answers, in the demo's own words.

The responses are the demo's (``domain.yml`` and the handoff's domain in
``handoff_connector/rasa/resources/domain/handoff.yml``), copied because the
connector reads no Rasa files; a test keeps them equal.
"""

from __future__ import annotations

from typing import Dict, Tuple

ANSWER = {"food": "utter_food_help", "housing": "utter_housing_help", "utilities": "utter_utility_help"}

RESPONSES: Dict[str, str] = {
    "utter_greet": (
        "Hi, I'm the Community Help Line assistant. I can help you find food assistance, housing help, or help with utility bills. What do you need today?"),
    "utter_goodbye": "Take care. If you need anything else, we're here any time.",
    "utter_you_are_welcome": "You're welcome. Is there anything else I can help with?",
    "utter_iamabot": (
        "I'm an automated assistant for the Community Help Line. If you'd rather talk to a person, just say so and I'll connect you."),
    "utter_capabilities": (
        'I can point you to food assistance (SNAP, food banks, WIC), housing help (shelter, rent and eviction help) and help with utility bills (shutoff protection, LIHEAP, payment plans). I can also connect you with a person on our team.'),
    "utter_food_help": (
        'Here are the main options for food help:\n- SNAP (food stamps) gives a monthly amount on an EBT card; you can apply online or at your county social services office.\n- Food banks and pantries give free groceries, usually without paperwork.\n- WIC helps pregnant people and families with children under 5.\nIf you tell us your area, a specialist can find the pantry closest to you. Would anything else help?'),
    "utter_housing_help": (
        "Here is where to start with housing:\n- If you need a safe place tonight, emergency shelters take people the same day; call the shelter hotline in your county.\n- If you're behind on rent or have an eviction notice, emergency rental assistance and free legal aid can help, and an eviction notice is not the same as a court order.\nA housing specialist can look at your situation with you. Is there anything else?"),
    "utter_utility_help": (
        'For help with utility bills:\n- LIHEAP helps pay heating, cooling and electric bills for households with lower incomes.\n- Most utilities offer payment plans, and many states protect households from shutoff in winter or during medical emergencies.\nIf you have a shutoff notice, call your utility before the date on it. Is there anything else I can help with?'),
    "utter_out_of_scope": (
        "Sorry, that's outside what I can help with. I can help with food assistance, housing and utility bills, or connect you with a person."),
    "utter_ask_rephrase": "Sorry, I didn't quite understand. Could you say it another way?",
    "utter_handoff_offer": (
        "I'm sorry I haven't been able to help. Would you like me to connect you with a person from our team?"),
    "utter_handoff_declined": "Okay, let's keep going. Tell me what you need and I'll do my best.",
    "utter_handoff_queued": (
        'I\'m connecting you with someone from our {team}. You\'re number {position} in line{wait}. They will see our whole conversation, so you won\'t need to repeat yourself. Please stay in this chat, or say "never mind" to go back to the assistant.'),
    "utter_handoff_no_agent": (
        "I've passed your conversation to our {team}, but nobody is free right this minute. You can wait here (you're number {position} in line), leave a phone number or email so they can get back to you, or keep going with me. Whoever picks it up will see our whole conversation, so you won't need to repeat yourself."),
    "utter_ask_callback_contact": 'What phone number or email address should our team use to reach you?',
    "utter_callback_confirmed": (
        "Thank you. Someone from our {team} will contact you at {contact} as soon as they can, and they'll have our conversation in front of them. Anything else I can help with in the meantime?"),
    "utter_handoff_cancelled": (
        "Okay, I've taken you out of the line. You're back with the assistant: how can I help?"),
    "utter_handoff_abandoned": (
        "Our team closed this conversation because we hadn't heard from you for a while. I'm here if you need anything, and you can ask for a person again any time."),
    "utter_handoff_returned": (
        "You're back with the assistant. Before you go, two quick questions about your conversation with our team."),
    "utter_ask_survey_rating": (
        'How would you rate the help you got, from 1 (poor) to 5 (excellent)? You can also skip.'),
    "utter_ask_survey_comment": (
        'Thanks. Anything you\'d like to tell us about it? Type your comment, or say "skip".'),
    "utter_survey_thanks": "Thank you for your feedback. I'm here if you need anything else.",
    "utter_survey_skipped": "No problem. I'm here if you need anything else.",
}

USER: Dict[str, Tuple[str, ...]] = {
    "greet": ("hi", "hello", "hey there", "good morning", "hi, I need some help"),
    "goodbye": ("bye", "ok bye", "that's all, bye", "goodbye"),
    "thank": ("thanks", "thank you", "that helps, thanks", "ok thank you so much"),
    "bot_challenge": ("am I talking to a bot?", "are you a real person", "is this automated"),
    "ask_capabilities": ("what can you do", "what can you help with", "what kind of help is there"),
    "ask_food_help": ("where is the nearest food pantry", "how do I apply for food stamps",
                      "I need groceries for my kids this week", "can I get WIC", "is there a food bank open on saturday",
                      "we ran out of food"),
    "ask_housing_help": ("I got an eviction notice", "I'm behind on rent", "I need a place to stay tonight",
                         "my landlord is evicting me", "how do I get rental assistance"),
    "ask_utility_help": ("I can't pay my gas bill", "my electricity is about to be shut off", "help with my heating bill",
                         "they're going to cut off my water", "I got a shutoff notice from the power company"),
    "housing_follow_up": ("what about my section 8 voucher", "can my landlord keep my security deposit",
                          "the landlord won't fix the heat, can I hold back rent", "how long until the court date",
                          "do I have to move out before the hearing", "my voucher expires next week what do I do"),
    "human_handoff": ("can I talk to a real person", "I want to speak to someone", "agent please",
                      "let me talk to a human", "is there someone I can talk to"),
    "frustrated_strong": ("THIS IS USELESS!!! YOU ARE NOT HELPING", "that doesn't help at all!!! my power goes off TOMORROW",
                          "I ALREADY CALLED THEM!!! they said no", "stop sending me the same list, this is ridiculous!!!"),
    "frustrated_mild": ("ugh", "that's not what I asked", "this isn't helping", "I already know all that"),
    "gibberish": ("asdkjh qwe zzz", "hdhdhdhd jjjj", "lkj lkj lkj", "mmmmm ok?? zz", "fgh fgh"),
    "out_of_scope": ("can you book me a flight to chicago", "what's the score of the game tonight",
                     "what oil should I use for my car", "tell me a joke", "what's the weather tomorrow"),
    "affirm": ("yes please", "yes", "ok", "sure", "yes, connect me"),
    "deny": ("no thanks", "no", "not now", "no, keep trying"),
    "relay": ("are you there?", "it's about the notice I got", "I have the letter here", "ok, I'll wait",
              "the date on it is Friday"),
    "reply": ("yes, that's right", "ok, thank you", "I can send a picture of it", "my zip code is 60623",
              "it's just me and my two kids", "I called them yesterday"),
    "never_mind": ("never mind", "forget it, I'll try later", "nevermind"),
    "callback": ("can someone call me back", "please call me tomorrow", "leave a number"),
    "contact": ("555-010-0142", "555-010-0187", "555-010-0163", "maria.g@example.org", "555-010-0119"),
    "comment": ("she was very kind", "thanks, that helped a lot", "took a while but ok", "skip", "skip"),
}

AGENT: Dict[str, Tuple[str, ...]] = {
    "food": ("I can help you find a pantry near you. What's your zip code?",
             "You can apply for SNAP online; I'll send you the link and what to bring."),
    "housing": ("I'm sorry you're dealing with this. Do you have the notice in front of you? What date is on it?",
                "You may qualify for emergency rental assistance. Do you have your lease and a recent pay stub?"),
    "utilities": ("Let's look at your shutoff notice together. Which utility is it, and what's the date on it?",
                  "LIHEAP can help with heating and electric bills. Do you have your most recent bill?"),
    "general": ("Hi, thanks for waiting. Tell me a bit more about what you need?",
                "I can help with that. Let me check what's available in your area."),
    "follow_up": ("Thanks for your patience, I'm looking into it now.", "Here's what I found for you."),
}

HANDOVER_NOTE = "they have a food question on top of the housing one."
REQUEUE_NOTE = "Needs the housing team: an eviction date this week."
