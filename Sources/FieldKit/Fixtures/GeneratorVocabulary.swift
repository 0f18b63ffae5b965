/// Words the district generator draws from: common surnames and given-name characters, street
/// and compound names, tags and notes as collectors write them.
///
/// ```swift
/// GeneratorVocabulary.surnames.count   // 100, most common first
/// ```
enum GeneratorVocabulary {
    /// The most common Chinese surnames, most common first (the generator favours the front).
    static let surnames: [String] = Array("""
        王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈\
        姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常
        """).map(String.init)
    static let givenCharacters: [String] = Array("""
        伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文辉鹏飞丹萍鑫斌宇浩凯玲燕琳晨欣怡婷雪\
        海波林峰成东亮宏兵俊坤佳子涵轩睿博嘉瑞雨欢春秋冬晓云桃荣德福永胜安宁
        """).map(String.init)
    /// Transliterated names written with a middle dot, as in Xinjiang.
    static let dottedNames = ["阿卜杜拉·买买提", "古丽娜尔·艾力", "热依汗·吐尔逊", "艾克拜尔·依明"]
    static let streets = [
        "幸福路", "人民路", "建设路", "和平街", "解放路", "中山路", "新华路", "光明路", "朱泾路", "石化街", "卫零路",
        "龙胜路", "蒙山路", "金山大道", "板桥西路", "亭林路", "枫泾镇新枫路", "张堰镇东街", "山阳镇海兴路", "漕泾镇振漕路",
    ]
    static let compounds = ["幸福小区", "金湾花园", "阳光苑", "海棠新村", "石化一村", "卫清苑", "龙山公寓", "枫林苑"]
    static let villages = ["李家村", "新农村", "东方村", "红光村", "秦望村", "兴塔村"]
    static let tags = ["独居老人", "残疾人", "低保户", "留守儿童", "出租屋", "退役军人", "孕产妇"]
    static let notes = [
        "门口有狗, 请先电话联系", "白天上班，晚上六点后在家", "联系人：女儿", "房东代为登记",
        "说\"下周再来\"", "二楼东侧", "听力不好，请大声说话",
    ]
}
