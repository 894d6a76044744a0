#!/usr/bin/env python3
"""dedup_gen: messy Chinese customer records with known duplicate groups, for measuring the
pairwise precision and recall of `kehu dedup scan`.

    bench/dedup_gen.py --records 20000 --seed 1 --out DIR

writes DIR/customers.jsonl (one POST /api/v1/customers body per line, each with a unique
`code`) and DIR/truth.tsv (code, person id, tags). Records of one person id are duplicates;
everything else is not.

What is in it, so that the figures mean something:
  * people: surnames by their real frequency (王 李 张 … down to rare and compound ones such
    as 欧阳, and surnames read unusually: 曾 zeng, 单 shan), one- or two-character given
    names by gender; 6% of people carry one of the thirty most common full names (张伟,
    王芳, 李娜 …), so many different people share a name;
  * companies from a shared pool (colleagues), written with or without their legal form
    (有限公司 / 股份有限公司 / 有限责任公司 / 集团), with a city prefix or a bracketed city,
    a trade word left out, in traditional characters or full-width brackets;
  * provinces and cities written "北京", "北京市", "河北省 秦皇岛市", or left out;
  * mobiles and fixed lines typed every way (+86, 0086, spaces, dashes, brackets, full-width
    digits, 转/分机/ext extensions), a digit mistyped now and then, numbers that are not
    valid at all, and a few placeholder numbers (13800000000) typed for many people;
  * emails in upper/lower case, personal ones and role mailboxes (info@, sales@) shared by
    colleagues;
  * duplicates (about a third of the people have 2-5 records) whose names come back in
    traditional characters, pinyin ("Zhang Wei", "zhangwei", "Wei Zhang"), with a homophone
    typed by a pinyin input method, as 张先生 / 王女士 / 刘总, with spaces, a title or a
    different character; each duplicate shares at least one contact point or the company
    with another record of the same person (with nothing in common nobody could tell);
  * hard negatives: people with the same common name in other cities and companies, family
    members sharing a household landline (same surname, often the same generation
    character), colleagues sharing a switchboard (with or without extensions) or a role
    mailbox.
"""
import argparse
import json
import os
import random
import sys

# --- names ---------------------------------------------------------------------------------

# (surname, pinyin, relative frequency %). Frequencies roughly as in China's 2020 census.
SURNAMES = [
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.6), ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.7), ("孙", "sun", 1.5),
    ("马", "ma", 1.5), ("朱", "zhu", 1.4), ("胡", "hu", 1.3), ("郭", "guo", 1.2),
    ("何", "he", 1.2), ("林", "lin", 1.1), ("罗", "luo", 1.1), ("高", "gao", 1.1),
    ("郑", "zheng", 1.0), ("梁", "liang", 0.9), ("谢", "xie", 0.8), ("宋", "song", 0.8),
    ("唐", "tang", 0.8), ("许", "xu", 0.7), ("韩", "han", 0.7), ("邓", "deng", 0.7),
    ("冯", "feng", 0.7), ("曹", "cao", 0.6), ("彭", "peng", 0.6), ("曾", "zeng", 0.6),
    ("肖", "xiao", 0.6), ("田", "tian", 0.5), ("董", "dong", 0.5), ("潘", "pan", 0.5),
    ("袁", "yuan", 0.5), ("蔡", "cai", 0.5), ("蒋", "jiang", 0.5), ("余", "yu", 0.4),
    ("于", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("魏", "wei", 0.4), ("苏", "su", 0.4), ("吕", "lu", 0.35), ("丁", "ding", 0.35),
    ("任", "ren", 0.35), ("卢", "lu", 0.35), ("姚", "yao", 0.35), ("沈", "shen", 0.35),
    ("钟", "zhong", 0.3), ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("范", "fan", 0.3), ("汪", "wang", 0.3), ("廖", "liao", 0.3),
    ("石", "shi", 0.3), ("金", "jin", 0.3), ("韦", "wei", 0.25), ("贾", "jia", 0.25),
    ("夏", "xia", 0.25), ("付", "fu", 0.25), ("方", "fang", 0.25), ("邹", "zou", 0.2),
    ("熊", "xiong", 0.2), ("白", "bai", 0.2), ("孟", "meng", 0.2), ("秦", "qin", 0.2),
    ("邱", "qiu", 0.2), ("侯", "hou", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2),
    ("薛", "xue", 0.2), ("闫", "yan", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2),
    ("龙", "long", 0.15), ("黎", "li", 0.15), ("史", "shi", 0.15), ("陶", "tao", 0.15),
    ("贺", "he", 0.15), ("毛", "mao", 0.15), ("郝", "hao", 0.15), ("顾", "gu", 0.15),
    ("龚", "gong", 0.15), ("邵", "shao", 0.15), ("万", "wan", 0.15), ("覃", "qin", 0.1),
    ("武", "wu", 0.1), ("钱", "qian", 0.1), ("戴", "dai", 0.1), ("严", "yan", 0.1),
    ("欧", "ou", 0.08), ("莫", "mo", 0.08), ("孔", "kong", 0.08), ("单", "shan", 0.05),
    ("仇", "qiu", 0.03), ("解", "xie", 0.03), ("查", "zha", 0.03), ("翟", "zhai", 0.05),
    ("乐", "yue", 0.03), ("区", "ou", 0.02), ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02),
    ("上官", "shangguan", 0.02), ("诸葛", "zhuge", 0.01), ("慕容", "murong", 0.01),
    ("司徒", "situ", 0.02), ("皇甫", "huangfu", 0.01), ("令狐", "linghu", 0.01),
]

# Given-name characters with pinyin, by gender; some are for both.
MALE = [("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"),
        ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("刚", "gang"),
        ("平", "ping"), ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"),
        ("鑫", "xin"), ("波", "bo"), ("斌", "bin"), ("宇", "yu"), ("浩", "hao"),
        ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"), ("旭", "xu"),
        ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("阳", "yang"), ("建", "jian"),
        ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("晓", "xiao"), ("海", "hai"),
        ("东", "dong"), ("峰", "feng"), ("博", "bo"), ("子", "zi"), ("轩", "xuan"),
        ("泽", "ze"), ("一", "yi"), ("嘉", "jia"), ("成", "cheng"), ("立", "li"),
        ("新", "xin"), ("永", "yong"), ("春", "chun"), ("荣", "rong"), ("德", "de"),
        ("振", "zhen"), ("金", "jin"), ("中", "zhong"), ("玮", "wei"), ("炜", "wei"),
        ("鸣", "ming"), ("铭", "ming"), ("钧", "jun"), ("君", "jun"), ("晖", "hui"),
        ("昊", "hao"), ("天", "tian"), ("思", "si"), ("远", "yuan"), ("庆", "qing"),
        ("洋", "yang")]
FEMALE = [("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
          ("艳", "yan"), ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("英", "ying"),
          ("燕", "yan"), ("玲", "ling"), ("桂", "gui"), ("兰", "lan"), ("梅", "mei"),
          ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("慧", "hui"), ("颖", "ying"),
          ("洁", "jie"), ("倩", "qian"), ("晶", "jing"), ("欣", "xin"), ("怡", "yi"),
          ("佳", "jia"), ("雨", "yu"), ("萱", "xuan"), ("涵", "han"), ("诗", "shi"),
          ("梦", "meng"), ("晓", "xiao"), ("红", "hong"), ("华", "hua"), ("莉", "li"),
          ("萍", "ping"), ("琴", "qin"), ("云", "yun"), ("月", "yue"), ("珊", "shan"),
          ("蕾", "lei"), ("薇", "wei"), ("璐", "lu"), ("思", "si"), ("彤", "tong"),
          ("婧", "jing"), ("靖", "jing"), ("莹", "ying"), ("瑛", "ying"), ("昕", "xin"),
          ("俐", "li"), ("婕", "jie"), ("凌", "ling"), ("惠", "hui"), ("雁", "yan")]

# The most common full names in China: many different people carry them.
COMMON_NAMES = [("张伟", "m"), ("王伟", "m"), ("王芳", "f"), ("李伟", "m"), ("李娜", "f"),
                ("张敏", "f"), ("李静", "f"), ("王静", "f"), ("刘伟", "m"), ("王秀英", "f"),
                ("张丽", "f"), ("李秀英", "f"), ("王丽", "f"), ("张静", "f"), ("张秀英", "f"),
                ("李强", "m"), ("王敏", "f"), ("李敏", "f"), ("王磊", "m"), ("刘洋", "m"),
                ("王艳", "f"), ("王勇", "m"), ("李军", "m"), ("张勇", "m"), ("李杰", "m"),
                ("张杰", "m"), ("张磊", "m"), ("王强", "m"), ("李娟", "f"), ("王军", "m")]

# Simplified → traditional for the characters used here (OpenCC's t2s must undo it).
TRAD = dict(zip(
    "张伟陈刘杨黄赵吴孙马郑谢韩冯邓许萧罗叶苏卢蒋钟陆吕邹龙贺顾龚钱严万欧阳诸单区乐刚军涛辉鹏华飞"
    "凯帅宁国晓东轩泽诗梦红云丽艳兰颖洁玮维炜鸣铭桦钧霖彦晖铃莹贸易电机网络发实业术广告传设备"
    "装饰咨询务环医药纺织软汽车际长城恒达宏图桥丰远航联纪银蓝凯腾门厦宁济庄尔滨无锡温岛庆"
    "汉苏州连阳贵兰乌鲁齐东莞佛创达讯视听团责亿鑫盛兴业丰泰润达科学东风龙凤凰",
    "張偉陳劉楊黃趙吳孫馬鄭謝韓馮鄧許蕭羅葉蘇盧蔣鍾陸呂鄒龍賀顧龔錢嚴萬歐陽諸單區樂剛軍濤輝鵬華飛"
    "凱帥寧國曉東軒澤詩夢紅雲麗艷蘭穎潔瑋維煒鳴銘樺鈞霖彥暉鈴瑩貿易電機網絡發實業術廣告傳設備"
    "裝飾諮詢務環醫藥紡織軟汽車際長城恆達宏圖橋豐遠航聯紀銀藍凱騰門廈寧濟莊爾濱無錫溫島慶"
    "漢蘇州連陽貴蘭烏魯齊東莞佛創達訊視聽團責億鑫盛興業豐泰潤達科學東風龍鳳凰"))


def trad(s):
    return "".join(TRAD.get(c, c) for c in s)


def fullwidth(s):
    out = []
    for c in s:
        o = ord(c)
        if 0x21 <= o <= 0x7E:
            out.append(chr(o + 0xFEE0))
        elif c == " ":
            out.append("\u3000")
        else:
            out.append(c)
    return "".join(out)


# --- places --------------------------------------------------------------------------------

# (province, city, area code, subscriber digits, weight)
CITIES = [
    ("北京", "北京", "10", 8, 8), ("上海", "上海", "21", 8, 8), ("广东", "广州", "20", 8, 5),
    ("广东", "深圳", "755", 8, 6), ("浙江", "杭州", "571", 8, 4), ("四川", "成都", "28", 8, 4),
    ("湖北", "武汉", "27", 8, 3), ("江苏", "南京", "25", 8, 3), ("江苏", "苏州", "512", 8, 3),
    ("天津", "天津", "22", 8, 3), ("山东", "青岛", "532", 8, 2), ("河北", "秦皇岛", "335", 7, 1),
    ("重庆", "重庆", "23", 8, 3), ("陕西", "西安", "29", 8, 2), ("湖南", "长沙", "731", 8, 2),
    ("河南", "郑州", "371", 8, 2), ("辽宁", "沈阳", "24", 8, 2), ("辽宁", "大连", "411", 8, 1),
    ("福建", "厦门", "592", 7, 1), ("浙江", "宁波", "574", 8, 1), ("山东", "济南", "531", 8, 1),
    ("安徽", "合肥", "551", 8, 1), ("福建", "福州", "591", 8, 1), ("云南", "昆明", "871", 8, 1),
    ("河北", "石家庄", "311", 8, 1), ("山西", "太原", "351", 7, 1), ("黑龙江", "哈尔滨", "451", 8, 1),
    ("广东", "东莞", "769", 8, 2), ("广东", "佛山", "757", 8, 1), ("江苏", "无锡", "510", 8, 1),
    ("浙江", "温州", "577", 8, 1), ("河北", "唐山", "315", 7, 1), ("河北", "保定", "312", 7, 1),
]
PROVINCE_SUFFIX = {"北京": "市", "上海": "市", "天津": "市", "重庆": "市"}

# --- companies -----------------------------------------------------------------------------

BRANDS = ["东方", "长城", "恒达", "宏图", "金桥", "瑞丰", "远航", "中联", "天成", "博雅", "海港",
          "华信", "新世纪", "银河", "星辰", "蓝天", "凯旋", "腾飞", "鑫源", "盛世", "兴业", "泰和",
          "润达", "科创", "东风", "龙凤", "亿达", "汇通", "永盛", "嘉禾", "万通", "正大", "安信",
          "德隆", "华润", "同创", "九州", "百川", "天际", "明远", "众合", "信达", "福瑞", "金鼎",
          "和谐", "大唐", "春晖", "立信", "融创", "锦绣", "海纳", "云帆", "北辰", "南山", "启明",
          "智联", "视讯", "聚力", "鼎盛", "宝利"]
TRADES = ["贸易", "科技", "电子", "机械", "物流", "网络科技", "实业", "建材", "食品", "医药",
          "广告传媒", "设备", "工程", "装饰", "咨询", "信息技术", "环保", "纺织", "化工", "汽车服务"]
LEGAL = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
TITLES = ["", "", "采购经理", "总经理", "财务", "行政主管", "技术总监", "销售", "董事长", "工程师"]
DOMAINS = ["163.com", "qq.com", "126.com", "sina.com", "foxmail.com", "139.com", "gmail.com"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180",
                   "181", "182", "183", "185", "186", "187", "188", "189", "198", "199"]
PLACEHOLDER_NUMBERS = ["13800000000", "13888888888", "13900000000", "010-88888888"]
INVALID_NUMBERS = ["1380013800", "12345678901", "010-1234", "138001380001", "0335-12", "2580"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.used_numbers = set()
        self.used_emails = set()
        self.people = []  # person dicts
        sw = [s[2] for s in SURNAMES]
        self.surname_weights = sw
        cw = [c[4] for c in CITIES]
        self.city_weights = cw
        self.companies = []
        self.homophones = {}
        for pool in (MALE, FEMALE):
            for ch, py in pool:
                self.homophones.setdefault(py, set()).add(ch)

    # --- building blocks ---
    def choice(self, seq):
        return seq[self.r.randrange(len(seq))]

    def city(self):
        return self.r.choices(CITIES, weights=self.city_weights)[0]

    def mobile(self):
        while True:
            n = self.choice(MOBILE_PREFIXES) + "".join(str(self.r.randrange(10)) for _ in range(8))
            if n not in self.used_numbers:
                self.used_numbers.add(n)
                return n

    def landline(self, city):
        _, _, area, digits, _ = city
        while True:
            sub = str(self.r.choice([2, 3, 5, 6, 8])) + "".join(
                str(self.r.randrange(10)) for _ in range(digits - 1))
            n = "0" + area + sub
            if n not in self.used_numbers:
                self.used_numbers.add(n)
                return (area, sub)

    def company(self):
        city = self.city()
        c = {
            "brand": self.choice(BRANDS) + (self.choice(BRANDS) if self.r.random() < 0.25 else ""),
            "trade": self.choice(TRADES),
            "legal": self.choice(LEGAL),
            "city": city,
            "prefix": self.r.random() < 0.45,  # registered with its city in the name
            "id": len(self.companies),
            "switchboard": None,
        }
        if self.r.random() < 0.3:
            c["switchboard"] = self.landline(city)
        self.companies.append(c)
        return c

    def given(self, gender, length):
        pool = MALE if gender == "m" else FEMALE
        return [self.choice(pool) for _ in range(length)]

    def new_person(self, surname=None, gender=None, city=None, given_first=None):
        r = self.r
        gender = gender or r.choice("mf")
        common = None
        if surname is None and given_first is None and r.random() < 0.06:
            name, g = self.choice(COMMON_NAMES)
            gender = g
            common = name
        if surname is None:
            s = r.choices(SURNAMES, weights=self.surname_weights)[0]
            surname = (s[0], s[1])
        if common:
            sur = [s for s in SURNAMES if name.startswith(s[0])][0]
            surname = (sur[0], sur[1])
            rest = name[len(sur[0]):]
            pool = {c: p for c, p in MALE + FEMALE}
            given = [(c, pool[c]) for c in rest]
        else:
            length = 1 if r.random() < 0.3 else 2
            given = self.given(gender, length)
            if given_first and length == 2:
                given[0] = given_first
        p = {
            "id": len(self.people),
            "surname": surname,
            "given": given,
            "gender": gender,
            "city": city or self.city(),
            "company": None,
            "title": self.choice(TITLES),
            "mobiles": [],
            "landline": None,  # (area, sub, ext)
            "email": None,
            "tags": set(),
        }
        if common:
            p["tags"].add("common_name")
        if r.random() < 0.93:  # the number is what a Chinese customer list is kept for
            p["mobiles"].append(self.mobile())
            if r.random() < 0.12:
                p["mobiles"].append(self.mobile())
        if r.random() < 0.7:
            # Colleagues: most people work at a company of the shared pool.
            if self.companies and r.random() < 0.6:
                p["company"] = self.choice(self.companies)
            else:
                p["company"] = self.company()
            if r.random() < 0.6:
                p["city"] = p["company"]["city"]
        if p["company"] and p["company"]["switchboard"] and r.random() < 0.5:
            area, sub = p["company"]["switchboard"]
            ext = str(r.randrange(800, 900)) if r.random() < 0.6 else ""
            p["landline"] = (area, sub, ext)
            p["tags"].add("switchboard")
        elif r.random() < 0.25:
            area, sub = self.landline(p["city"])
            p["landline"] = (area, sub, "")
        if r.random() < 0.5:
            local = self.latin_name(p, style=r.randrange(4)).replace(" ", "").lower()
            if r.random() < 0.3:
                local = str(r.randrange(10000000, 2000000000))
                domain = "qq.com"
            elif p["company"] and r.random() < 0.4:
                domain = "c%d.com.cn" % p["company"]["id"]
            else:
                domain = self.choice(DOMAINS)
                local += str(r.randrange(1, 999)) if r.random() < 0.5 else ""
            email = local + "@" + domain
            while email in self.used_emails:  # one person's mailbox
                email = local + str(r.randrange(10, 9999)) + "@" + domain
            self.used_emails.add(email)
            p["email"] = email
        self.people.append(p)
        return p

    # --- how a record shows a person ---
    def han_name(self, p):
        return p["surname"][0] + "".join(c for c, _ in p["given"])

    def latin_name(self, p, style):
        sur = p["surname"][1]
        giv = "".join(py for _, py in p["given"])
        if style == 0:
            return sur.capitalize() + " " + giv.capitalize()
        if style == 1:
            return sur + giv
        if style == 2:
            return giv.capitalize() + " " + sur.capitalize()
        return sur.upper() + " " + giv.capitalize()

    def show_name(self, p, variant):
        r = self.r
        han = self.han_name(p)
        if variant == "trad":
            return trad(han)
        if variant == "pinyin":
            return self.latin_name(p, r.randrange(4))
        if variant == "homophone":
            chars = list(p["given"])
            i = r.randrange(len(chars))
            alts = sorted(self.homophones.get(chars[i][1], set()) - {chars[i][0]})
            if not alts:
                return han
            chars[i] = (self.choice(alts), chars[i][1])
            return p["surname"][0] + "".join(c for c, _ in chars)
        if variant == "address":
            forms = ["先生", "总", "经理"] if p["gender"] == "m" else ["女士", "小姐", "总", "经理"]
            return p["surname"][0] + self.choice(forms)
        if variant == "spacing":
            return self.choice([p["surname"][0] + " " + han[len(p["surname"][0]):],
                                p["surname"][0] + "\u3000" + han[len(p["surname"][0]):],
                                " " + han + " ", han + "  "])
        if variant == "title":
            return han + self.choice(["经理", "（采购）", "(财务)", "总经理"])
        if variant == "typo":
            chars = list(p["given"])
            i = r.randrange(len(chars))
            chars[i] = self.choice(MALE if p["gender"] == "m" else FEMALE)
            return p["surname"][0] + "".join(c for c, _ in chars)
        return han

    def show_company(self, c, variant):
        r = self.r
        city = c["city"][1]
        core = c["brand"] + c["trade"]
        prefix = city if c["prefix"] else ""
        name = prefix + core + c["legal"]
        if variant == "legal":
            other = self.choice(["有限公司", "股份有限公司", "有限责任公司", "集团", "", "公司"])
            return prefix + core + other
        if variant == "place":
            return self.choice([core + c["legal"] + "（" + city + "）",
                                city + "市" + core + c["legal"],
                                core + c["legal"], core + c["legal"] + "(" + city + ")"])
        if variant == "trad":
            return trad(name)
        if variant == "trade":
            return prefix + c["brand"] + c["legal"]
        if variant == "width":
            return fullwidth(name) if r.random() < 0.5 else name.replace("有限公司", " 有限公司")
        return name

    def show_place(self, p, variant):
        prov, city = p["city"][0], p["city"][1]
        if variant == "none":
            return None, None
        if variant == "suffix":
            return prov + PROVINCE_SUFFIX.get(prov, "省"), city + "市"
        if variant == "city_only":
            return None, city
        if variant == "trad":
            return trad(prov), trad(city)
        return prov, city

    def show_mobile(self, n):
        r = self.r
        v = r.randrange(11)
        a, b, c = n[:3], n[3:7], n[7:]
        forms = [n, f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86 {a} {b} {c}", f"+86{n}", f"0086 {n}",
                 f"86-{n}", f"(+86){n}", fullwidth(n), f" {a} {b}{c} ", f"+86-{a}-{b}-{c}"]
        return forms[v]

    def show_landline(self, area, sub, ext):
        r = self.r
        half = len(sub) // 2
        base = self.choice([f"0{area}-{sub}", f"(0{area}) {sub[:half]} {sub[half:]}",
                            f"0{area} {sub}", f"+86 {area} {sub}", f"0{area}{sub}",
                            fullwidth(f"0{area}-{sub}")])
        if ext:
            base += self.choice([f" 转 {ext}", f"转{ext}", f" 分机 {ext}", f" ext. {ext}", f"-{ext}"])
        return base

    def typo(self, number):
        digits = [i for i, ch in enumerate(number) if ch.isdigit()]
        i = self.choice(digits[3:]) if len(digits) > 3 else digits[-1]
        d = str((int(number[i]) + 1 + self.r.randrange(8)) % 10)
        return number[:i] + d + number[i + 1:]

    def record(self, p, first):
        """One customer record of person p (the first one is less noisy)."""
        r = self.r
        body = {"name": None}
        name_variant = "plain"
        if not first:
            name_variant = r.choices(
                ["plain", "trad", "pinyin", "homophone", "address", "spacing", "title", "typo"],
                weights=[50, 10, 10, 7, 8, 6, 5, 4])[0]
        elif r.random() < 0.08:
            name_variant = r.choice(["spacing", "trad", "title"])
        body["name"] = self.show_name(p, name_variant)
        body["gender"] = {"m": "male", "f": "female"}[p["gender"]] if r.random() < 0.5 else "unknown"
        if p["company"] and r.random() < (0.85 if first else 0.7):
            cv = "plain"
            if not first:
                cv = r.choices(["plain", "legal", "place", "trad", "trade", "width"],
                               weights=[45, 20, 15, 8, 6, 6])[0]
            body["company"] = self.show_company(p["company"], cv)
        if p["title"] and r.random() < 0.6:
            body["title"] = p["title"]
        pv = r.choices(["plain", "suffix", "city_only", "none", "trad"], weights=[45, 20, 15, 17, 3])[0]
        prov, city = self.show_place(p, pv)
        if prov:
            body["province"] = prov
        if city:
            body["city"] = city
        phones = []
        for k, m in enumerate(p["mobiles"]):
            if r.random() < ((0.95 if first else 0.88) if k == 0 else 0.4):
                n = m
                if not first and r.random() < 0.03:
                    n = self.typo(n)
                phones.append({"number": self.show_mobile(n), "label": "手机"})
        if p["landline"] and r.random() < 0.7:
            area, sub, ext = p["landline"]
            phones.append({"number": self.show_landline(area, sub, ext),
                           "label": "办公" if "switchboard" in p["tags"] else "家庭"})
        if r.random() < 0.02:
            phones.append({"number": self.choice(INVALID_NUMBERS), "label": "其他"})
        if r.random() < 0.004:
            phones.append({"number": self.choice(PLACEHOLDER_NUMBERS), "label": "其他"})
        emails = []
        if p["email"] and r.random() < 0.6:
            e = p["email"]
            if r.random() < 0.2:
                e = e.upper() if r.random() < 0.5 else e.capitalize()
            emails.append({"address": e})
        if p.get("role_mail") and r.random() < 0.5:
            emails.append({"address": p["role_mail"]})
        if phones:
            body["phones"] = phones
        if emails:
            body["emails"] = emails
        return body


def evidence(body):
    """What a record can be recognised by: digits of its numbers, emails, company core."""
    keys = set()
    for ph in body.get("phones", []):
        d = "".join(ch for ch in ph["number"] if ch.isdigit() or "\uff10" <= ch <= "\uff19")
        d = "".join(chr(ord(ch) - 0xFEE0) if ch > "9" else ch for ch in d)
        keys.add("p" + d[-7:])
    for em in body.get("emails", []):
        keys.add("e" + em["address"].lower())
    if body.get("company"):
        keys.add("c")
    return keys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    r = g.r
    os.makedirs(a.out, exist_ok=True)

    records = []  # (body, person id, tags)
    while len(records) < a.records:
        p = g.new_person()
        group = [p]
        # Hard negatives around this person.
        if p["landline"] is None and r.random() < 0.07:
            # A household: family members on one landline, same surname (a spouse: not).
            area, sub = g.landline(p["city"])
            p["landline"] = (area, sub, "")
            for _ in range(r.randrange(1, 3)):
                spouse = r.random() < 0.35
                gen_char = p["given"][0] if len(p["given"]) == 2 and r.random() < 0.5 else None
                q = g.new_person(surname=None if spouse else p["surname"],
                                 gender=None, city=p["city"], given_first=gen_char)
                if not spouse and gen_char and len(q["given"]) == 2:
                    q["given"][0] = gen_char  # siblings share the generation character
                q["landline"] = (area, sub, "")
                q["tags"].add("family")
                group.append(q)
            p["tags"].add("family")
        if p["company"] and r.random() < 0.05:
            role = r.choice(["info", "sales", "service", "office"]) + "@c%d.com.cn" % p["company"]["id"]
            p["role_mail"] = role
            q = g.new_person()
            q["company"] = p["company"]
            q["role_mail"] = role
            q["tags"].add("role_mail")
            p["tags"].add("role_mail")
            group.append(q)
        for person in group:
            n = r.choices([1, 2, 3, 4, 5], weights=[66, 21, 8, 3, 2])[0]
            bodies = []
            for k in range(n):
                bodies.append(g.record(person, first=(k == 0)))
            # Every duplicate shares something with another record of the person.
            for k in range(1, n):
                for _ in range(20):
                    ev = evidence(bodies[k])
                    others = set().union(*(evidence(b) for j, b in enumerate(bodies) if j != k))
                    if ev & others:
                        break
                    bodies[k] = g.record(person, first=False)
            for b in bodies:
                records.append((b, person["id"], person["tags"]))

    records = records[:a.records]
    order = list(range(len(records)))
    r.shuffle(order)
    width = max(6, len(str(len(records))))
    with open(os.path.join(a.out, "customers.jsonl"), "w", encoding="utf-8") as f, \
            open(os.path.join(a.out, "truth.tsv"), "w", encoding="utf-8") as t:
        t.write("code\tperson\ttags\n")
        for i, k in enumerate(order):
            body, person, tags = records[k]
            code = "DG" + str(i + 1).zfill(width)
            body = {"code": code, **body}
            f.write(json.dumps(body, ensure_ascii=False) + "\n")
            t.write(f"{code}\t{person}\t{','.join(sorted(tags))}\n")
    persons = {}
    for _, pid, _ in records:
        persons[pid] = persons.get(pid, 0) + 1
    dup_people = sum(1 for v in persons.values() if v > 1)
    pairs = sum(v * (v - 1) // 2 for v in persons.values())
    print(f"RESULT records={len(records)} people={len(persons)} people_with_duplicates={dup_people} "
          f"true_pairs={pairs} seed={a.seed}")


if __name__ == "__main__":
    sys.exit(main())
